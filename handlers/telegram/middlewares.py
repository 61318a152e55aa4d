"""Outer middlewares: normalise text to NFC, then resolve the sender to an Actor."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from bot.core.models import Locale, Platform
from bot.core.text import nfc
from bot.logcontext import UPDATE
from bot.services.actors import resolve_actor
from bot.services.app import Services
from handlers.telegram.group import GROUPS, is_anonymous, is_group_command
from handlers.telegram.ui import Ui
from storage.ledger import UpdateLedger

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _nfc_message(message: Message | None) -> Message | None:
    if message is None:
        return None
    changes: dict[str, str] = {}
    if message.text is not None and nfc(message.text) != message.text:
        changes["text"] = nfc(message.text)
    if message.caption is not None and nfc(message.caption) != message.caption:
        changes["caption"] = nfc(message.caption)
    return message.model_copy(update=changes) if changes else message


class UpdateOnceMiddleware(BaseMiddleware):
    """An update delivered twice (Telegram retries one whose answer it did not get, e.g. from
    a worker that died mid-request) is handled once, across workers with a Redis ledger; the
    update id goes into every log line written while it is handled."""

    def __init__(self, ledger: UpdateLedger, bot_id: int | None = None) -> None:
        self.ledger = ledger
        self.bot_id = bot_id

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot = data.get("bot")
        owner = self.bot_id if self.bot_id is not None else getattr(bot, "id", 0)
        token = UPDATE.set(str(event.update_id))
        try:
            if not await self.ledger.first(f"tg:{owner}:{event.update_id}"):
                log.info("update delivered again: ignored")
                return None
            return await handler(event, data)
        finally:
            UPDATE.reset(token)


class NfcMiddleware(BaseMiddleware):
    """Vietnamese typed in decomposed form must match what the secretariat typed composed."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            changes = {}
            for field in ("message", "edited_message"):
                original = getattr(event, field)
                fixed = _nfc_message(original)
                if fixed is not original:
                    changes[field] = fixed
            if changes:
                event = event.model_copy(update=changes)
        return await handler(event, data)


class ActorMiddleware(BaseMiddleware):
    """Puts `actor` (identity, memberships) and `ui` (its locale) into the handler data."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data["services"] = self.services
        if (
            isinstance(event, Message)
            and event.chat.type in GROUPS
            and (is_anonymous(event) or not is_group_command(event))
        ):
            # Group chatter is only scanned for invite codes: no identity is made for it.
            data["ui"] = Ui(self.services.renderer, Locale.VI)
            return await handler(event, data)
        user: User | None = None
        if isinstance(event, Message | CallbackQuery):
            user = event.from_user
        if user is None or user.is_bot:
            return None
        actor = await resolve_actor(
            self.services,
            platform=Platform.TELEGRAM,
            external_id=str(user.id),
            display_name=user.full_name,
            username=user.username,
        )
        data["actor"] = actor
        data["ui"] = Ui(self.services.renderer, actor.locale)
        return await handler(event, data)
