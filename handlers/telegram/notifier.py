"""The Notifier port over a Telegram Bot (direct send; the outbox comes later)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

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
            markup = (
                InlineKeyboardMarkup(
                    inline_keyboard=[
                        [
                            InlineKeyboardButton(
                                text=b.text, callback_data=b.callback_data, url=b.url
                            )
                            for b in row
                        ]
                        for row in message.buttons
                    ]
                )
                if message.buttons
                else None
            )
            await self.bot.send_message(
                chat_id=int(message.chat_id), text=message.text, reply_markup=markup
            )
        except TelegramForbiddenError:
            return False
        except TelegramBadRequest as exc:
            log.warning("notice not delivered: %s", exc.message)
            return False
        return True
