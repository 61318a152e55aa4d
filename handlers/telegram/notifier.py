"""The Transport port over a Telegram Bot: the outbox sender's messages, with the Bot API's
answer classified (429, 403, 5xx, 400)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.models import Platform
from bot.core.ports import OutgoingMessage, SendResult, SendStatus


class TelegramNotifier:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def transmit(self, message: OutgoingMessage) -> SendResult:
        """One outbox message; the Bot API's answer as a status (never raises for it)."""
        if message.platform is not Platform.TELEGRAM:
            return SendResult(SendStatus.REJECTED, error="not a Telegram chat")
        try:
            await self.bot.send_message(
                chat_id=int(message.chat_id), text=message.text, reply_markup=_markup(message)
            )
        except TelegramRetryAfter as exc:
            return SendResult(SendStatus.RETRY_AFTER, retry_after=float(exc.retry_after))
        except TelegramForbiddenError:
            return SendResult(SendStatus.UNREACHABLE)
        except (TelegramServerError, TelegramNetworkError) as exc:
            return SendResult(SendStatus.TRANSIENT, error=type(exc).__name__)
        except TelegramBadRequest as exc:
            return SendResult(SendStatus.REJECTED, error=exc.message[:200])
        return SendResult(SendStatus.SENT)


def _markup(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=b.text, callback_data=b.callback_data, url=b.url)
                for b in row
            ]
            for row in message.buttons
        ]
    )
