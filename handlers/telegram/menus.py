"""Telegram command menus: everyone sees the common commands; the secretariat sees its own."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.core.models import Locale
from bot.render import Renderer

COMMON = (
    "start",
    "vote",
    "checkin",
    "report",
    "standings",
    "deadlines",
    "covenant",
    "web",
    "conference",
    "criteria",
    "help",
    "me",
    "lang",
)
SECRETARIAT = (
    *COMMON,
    "bloc",
    "units",
    "invite",
    "period",
    "status",
    "review",
    "return",
    "export",
    "ballot",
    "announce",
    "summary",
    "minutes",
)


def _commands(renderer: Renderer, locale: Locale, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(command=c, description=renderer.t(locale, f"command.{c}")) for c in names]


async def set_default_menus(bot: Bot, renderer: Renderer) -> None:
    """Vietnamese by default, English for clients set to English."""
    for locale, language in ((Locale.VI, None), (Locale.EN, "en")):
        await bot.set_my_commands(
            _commands(renderer, locale, COMMON),
            scope=BotCommandScopeAllPrivateChats(),
            language_code=language,
        )


async def set_secretariat_menu(bot: Bot, renderer: Renderer, chat_id: int, locale: Locale) -> None:
    """A secretariat member's private chat also lists the secretariat commands."""
    with suppress(TelegramAPIError):  # a menu is a convenience; never fail the use case for it
        await bot.set_my_commands(
            _commands(renderer, locale, SECRETARIAT), scope=BotCommandScopeChat(chat_id=chat_id)
        )
