"""One Transport over every chat platform the bot runs on: each outbox message goes to its
own platform's adapter (Telegram, Zalo); a platform not configured refuses it."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.models import Platform
from bot.core.ports import OutgoingMessage, SendResult, SendStatus, Transport


class Channels:
    def __init__(self, adapters: Mapping[Platform, Transport]) -> None:
        self.adapters = dict(adapters)

    async def transmit(self, message: OutgoingMessage) -> SendResult:
        adapter = self.adapters.get(message.platform)
        if adapter is None:
            return SendResult(SendStatus.REJECTED, error=f"no {message.platform.value} channel")
        return await adapter.transmit(message)
