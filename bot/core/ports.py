"""Ports the domain needs from the outside world; adapters live elsewhere."""

from __future__ import annotations

import enum
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.models import Platform


class Clock(Protocol):
    """Where the current time comes from (real in production, fake in tests and the demo)."""

    def now(self) -> datetime:
        """The current UTC-aware time."""
        ...


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to one chat, already rendered in the recipient's locale."""

    platform: Platform
    chat_id: str
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


class SendStatus(enum.StrEnum):
    SENT = "sent"
    RETRY_AFTER = "retry_after"  # the platform asked to wait (HTTP 429): not the message's fault
    UNREACHABLE = "unreachable"  # the user blocked the bot or left (HTTP 403)
    TRANSIENT = "transient"  # network or server error (5xx): try again later
    REJECTED = "rejected"  # the platform refused this message (HTTP 400): do not retry


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    retry_after: float = 0.0
    error: str = ""


class Transport(Protocol):
    """Delivers one outbox message and says how it went (never raises for API errors)."""

    async def transmit(self, message: OutgoingMessage) -> SendResult: ...


class Subscription(Protocol):
    """Messages published on one topic after the subscription began, in order."""

    async def get(self) -> str:
        """The next message (waits for it)."""
        ...


class Broadcast(Protocol):
    """Publish/subscribe between the services and the open hall screens: a message names
    ids only (what changed), never a choice or a name; a screen re-reads what it shows. In one
    process (asyncio queues), or across workers (Redis pub/sub, PostgreSQL LISTEN/NOTIFY)."""

    async def publish(self, topic: str, message: str) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]: ...
