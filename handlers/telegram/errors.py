"""A handler that failed still answers the user; the error is logged with the update id."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.core.models import Locale
from bot.services.app import Services
from handlers.telegram.ui import Ui

log = logging.getLogger(__name__)


def make_router(services: Services) -> Router:
    router = Router(name=__name__)

    async def on_error(event: ErrorEvent, **data: Any) -> bool:
        log.error(
            "update %s failed: %s",
            event.update.update_id,
            event.exception.__class__.__name__,
            exc_info=event.exception,
        )
        ui = data.get("ui")
        if not isinstance(ui, Ui):
            ui = Ui(services.renderer, Locale.VI)
        text = ui.text("internal_error")
        with suppress(TelegramAPIError):
            if event.update.message is not None:
                await event.update.message.answer(text)
            elif event.update.callback_query is not None:
                await event.update.callback_query.answer(text, show_alert=True)
        return True

    router.errors.register(on_error)
    return router
