"""A Notifier that records what would have been sent."""

from __future__ import annotations

from bot.core.ports import OutgoingMessage


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.unreachable: set[str] = set()

    async def send(self, message: OutgoingMessage) -> bool:
        if message.chat_id in self.unreachable:
            return False
        self.sent.append(message)
        return True
