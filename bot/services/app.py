"""The services' shared dependencies, built once in the composition root."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.core.models import Account, Platform
from bot.core.ports import Broadcast, Clock
from bot.render import Renderer
from bot.services.pdf import PdfConverter
from storage.broadcast import LocalBroadcast
from storage.files import FileStore
from storage.uow import Database


async def _nothing() -> None:
    return None


@dataclass
class Services:
    db: Database
    clock: Clock
    renderer: Renderer
    audit_key: bytes
    ballot_secret: bytes  # BALLOT_SECRET: seals secret ballots; never stored, never logged
    files: FileStore
    admins: frozenset[Account] = frozenset()
    bot_username: str = ""
    # WEB__URL, normalised (None: the web companion is off; /web says so).
    web_url: str | None = None
    # The chat platforms this bot runs on: linking accounts is offered when there are two.
    channels: frozenset[Platform] = frozenset()
    # Invite codes come from here; the demo passes a seeded source to stay reproducible.
    token_bytes: Callable[[int], bytes] = field(default=secrets.token_bytes)
    # Sends what a use case just queued in the outbox: the runtime wakes the tick (it sends
    # within the rate budget); the demo and the handler tests drain in place. Unset, queued
    # messages go at the next tick (within ~30 s).
    outbox_flush: Callable[[], Awaitable[None]] = field(default=_nothing)
    # What changed at the conference, to the open hall screens (ids only): in this process
    # unless the runtime wires a cross-worker one.
    broadcast: Broadcast = field(default_factory=LocalBroadcast)
    # PDF copies of the documents (LibreOffice); the composition root finds the program, the
    # default makes none (and the bot says LibreOffice is not installed).
    pdf: PdfConverter = field(default_factory=lambda: PdfConverter(None))
