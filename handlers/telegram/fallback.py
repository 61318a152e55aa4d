"""Private messages nothing else understood: a short pointer to /help, never silence."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from handlers.telegram.ui import Ui


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_unknown, F.chat.type == "private")
    router.callback_query.register(on_stale)
    return router


async def on_unknown(message: Message, ui: Ui) -> None:
    await message.answer(
        ui.text("unknown_command" if (message.text or "").startswith("/") else "unknown_message")
    )


async def on_stale(query: CallbackQuery, ui: Ui) -> None:
    await query.answer(ui.text("stale_button"), show_alert=True)
