"""The Notifier port over a Telegram Bot (direct send; the outbox comes later)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from bot.core.models import Platform
from bot.core.ports import OutgoingMessage

log = logging.getLogger(__name__)


class TelegramNotifier:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: OutgoingMessage) -> bool:
        if message.platform is not Platform.TELEGRAM:
            return False
        try:
            await self.bot.send_message(chat_id=int(message.chat_id), text=message.text)
        except TelegramForbiddenError:
            return False
        except TelegramBadRequest as exc:
            log.warning("notice not delivered: %s", exc.message)
            return False
        return True
