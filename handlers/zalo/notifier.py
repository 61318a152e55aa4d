"""The Transport port over the Zalo Bot API: the outbox's messages to Zalo
accounts, in plain text (no markup, no buttons: an action is named in words), cut under
2,000 characters, the platform's answer classified for the sender (429, 403, 5xx, 400)."""

from __future__ import annotations

import logging

from bot.core.models import Platform
from bot.core.ports import OutgoingMessage, SendResult, SendStatus
from bot.core.text import split_message
from handlers.texts import to_plain
from handlers.zalo.client import MAX_TEXT, ZaloClient, ZaloError

log = logging.getLogger(__name__)


# What to type on Zalo for a Telegram button, by its callback data's prefix.
TYPED = {"vt": "bo phieu", "cv": "giao uoc", "dl": "da nhan", "rp": "bao cao"}


def zalo_text(message: OutgoingMessage) -> str:
    """The message as Zalo shows it: plain text; a button becomes its label and the words
    that do the same on Zalo ("→ 🗳 Biểu quyết: bo phieu")."""
    text = to_plain(message.text)
    lines = []
    for row in message.buttons:
        for button in row:
            if not button.text:
                continue
            typed = TYPED.get((button.callback_data or "").partition(":")[0])
            lines.append(f"→ {button.text}: {typed}" if typed else f"→ {button.text}")
    if lines:
        text += "\n" + "\n".join(lines)
    return text


class ZaloNotifier:
    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    async def transmit(self, message: OutgoingMessage) -> SendResult:
        if message.platform is not Platform.ZALO:
            return SendResult(SendStatus.REJECTED, error="not a Zalo chat")
        try:
            for part in split_message(zalo_text(message), MAX_TEXT):
                if part.strip():
                    await self.client.call(
                        "sendMessage", {"chat_id": message.chat_id, "text": part}, attempts=1
                    )
        except ZaloError as exc:
            if exc.code == 429:
                return SendResult(SendStatus.RETRY_AFTER, retry_after=1.0)
            if exc.code == 403:
                return SendResult(SendStatus.UNREACHABLE)
            if exc.code == 0 or exc.code >= 500:
                return SendResult(SendStatus.TRANSIENT, error=str(exc.code))
            return SendResult(SendStatus.REJECTED, error=exc.description[:200])
        return SendResult(SendStatus.SENT)
