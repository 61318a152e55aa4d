"""Groups: only public commands; invite codes posted there are refused and revoked."""

from __future__ import annotations

import re
from contextlib import suppress

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.invites import guard_group_text
from bot.services.notify import deliver
from handlers.telegram.common import cmd_help
from handlers.telegram.ui import Ui

COMMAND_RE = re.compile(r"^/[A-Za-z_]+(?:@([A-Za-z0-9_]+))?")


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type.in_({"group", "supergroup"}))
    router.message.register(cmd_start_in_group, CommandStart())
    router.message.register(cmd_help_in_group, Command("help"))
    router.message.register(on_group_command, F.text.regexp(COMMAND_RE.pattern))
    router.message.register(on_group_text, F.text | F.caption)
    # A code added by editing a message is just as public.
    router.edited_message.filter(F.chat.type.in_({"group", "supergroup"}))
    router.edited_message.register(on_group_text, F.text | F.caption)
    return router


async def cmd_start_in_group(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    if command.args:
        # Same as a code pasted in the group: revoke it and tell whoever issued it.
        if not await _guard(message, actor, services, ui):
            await _hide(message)
            await message.answer(ui.text("join_in_group"))
        return
    await message.answer(ui.text("private_only_group"))


async def cmd_help_in_group(message: Message, actor: Actor, services: Services, ui: Ui) -> None:
    if not await _guard(message, actor, services, ui):
        await cmd_help(message, actor, ui)


async def on_group_command(message: Message, actor: Actor, services: Services, ui: Ui) -> None:
    """A command that is not public: point to the private chat (after guarding codes)."""
    if await _guard(message, actor, services, ui):
        return
    match = COMMAND_RE.match(message.text or "")
    mention = match.group(1) if match else None
    if mention and mention.casefold() != services.bot_username.casefold():
        return  # addressed to another bot in the group
    await message.answer(ui.text("private_only_group"))


async def on_group_text(message: Message, actor: Actor, services: Services, ui: Ui) -> None:
    await _guard(message, actor, services, ui)


async def _guard(message: Message, actor: Actor, services: Services, ui: Ui) -> bool:
    leaked = await guard_group_text(services, actor, message.text or message.caption or "")
    if leaked is None:
        return False
    await _hide(message)
    await message.answer(ui.text("join_in_group"))
    await deliver(services, list(leaked.notices))
    return True


async def _hide(message: Message) -> None:
    # Needs the bot to be an admin of the group; without it the code is revoked anyway.
    with suppress(TelegramAPIError):
        await message.delete()
