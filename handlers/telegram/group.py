"""Groups: only public commands; invite codes posted there are refused and revoked.

Plain group messages are only scanned for codes: nobody is registered for writing in a group.
Anonymous admins and channels (sender_chat set) are scanned too.
"""

from __future__ import annotations

import re
from contextlib import suppress

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.core.sealing import RECEIPT_SHAPE
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.invites import guard_group_text
from bot.services.standings import group_standings
from bot.services.voting import group_turnout
from handlers.telegram.common import cmd_help
from handlers.telegram.standings import send_chart
from handlers.telegram.ui import Ui, answer_long

COMMAND_RE = re.compile(r"^/[A-Za-z_]+(?:@([A-Za-z0-9_]+))?")
GROUPS = {"group", "supergroup"}


def is_anonymous(message: Message) -> bool:
    """Posted as the group itself (anonymous admin), as a channel, or by another bot."""
    user = message.from_user
    return message.sender_chat is not None or user is None or user.is_bot


def is_group_command(message: Message) -> bool:
    return message.chat.type in GROUPS and COMMAND_RE.match(message.text or "") is not None


def make_guard_router() -> Router:
    """First of all routers: group messages that carry no command, and anonymous posts."""
    router = Router(name=__name__ + ".guard")
    router.message.filter(F.chat.type.in_(GROUPS))
    router.edited_message.filter(F.chat.type.in_(GROUPS))
    for observer in (router.message, router.edited_message):
        observer.register(on_group_text, is_anonymous)
        observer.register(on_group_text, ~F.text.regexp(COMMAND_RE.pattern))
    return router


def make_router() -> Router:
    """Commands sent in a group by a person (after the feature routers had their turn)."""
    router = Router(name=__name__)
    router.message.filter(F.chat.type.in_(GROUPS))
    router.message.register(cmd_start_in_group, CommandStart())
    router.message.register(cmd_help_in_group, Command("help"))
    router.message.register(cmd_vote_in_group, Command("vote"))
    router.message.register(cmd_standings_in_group, Command("standings"))
    router.message.register(on_group_command, F.text.regexp(COMMAND_RE.pattern))
    return router


def _poster(message: Message) -> str:
    if message.sender_chat is not None:
        return f"telegram-chat:{message.sender_chat.id}"
    return f"telegram:{message.from_user.id}" if message.from_user else "telegram:unknown"


async def on_group_text(message: Message, services: Services, ui: Ui) -> None:
    if not await _guard(message, services, ui):
        await _receipt_guard(message, ui, message.text or "")


async def _receipt_guard(message: Message, ui: Ui, text: str) -> bool:
    """A secret ballot's receipt posted in the group: hidden (where the bot may delete), and
    the sender pointed to the private chat — where receipts are published with choices, the
    code would show the whole group how the unit voted."""
    if not RECEIPT_SHAPE.match(text):
        return False
    await _hide(message)
    await message.answer(ui.text("receipt_in_group"))
    return True


async def cmd_start_in_group(
    message: Message, command: CommandObject, services: Services, ui: Ui
) -> None:
    # A code here is handled like a pasted one: revoked, and whoever issued it is told.
    if await _guard(message, services, ui):
        return
    if command.args:
        # Dead or unknown: refused all the same, without saying which.
        await _hide(message)
        await message.answer(ui.text("join_in_group"))
        return
    await message.answer(ui.text("private_only_group"))


async def cmd_help_in_group(message: Message, actor: Actor, services: Services, ui: Ui) -> None:
    if not await _guard(message, services, ui):
        await cmd_help(message, actor, ui)


async def cmd_standings_in_group(message: Message, services: Services, ui: Ui) -> None:
    """The bloc's standings, public: totals and turnout, never a partial result."""
    if await _guard(message, services, ui):
        return
    view = await group_standings(services, message.chat.id)
    if view is None:
        await message.answer(ui.text("private_only_group"))
        return
    await answer_long(message, ui.text("standings_view", view=view))
    if view.rows:
        await send_chart(message, view, ui)


async def cmd_vote_in_group(message: Message, services: Services, ui: Ui) -> None:
    """Turnout of the open ballots — never a partial result; voting itself is private."""
    if await _guard(message, services, ui):
        return
    _, _, rest = (message.text or "").partition(" ")
    if rest.strip().partition(" ")[0].casefold() in {"check", "kiemtra", "kiểm_tra"}:
        # Whatever follows may be a receipt, in any spelling: hidden all the same.
        await _hide(message)
        await message.answer(ui.text("receipt_in_group"))
        return
    turnout = await group_turnout(services, message.chat.id)
    if turnout is None:
        await message.answer(ui.text("private_only_group"))
        return
    await message.answer(
        ui.text(
            "ballot_group_turnout",
            bloc=turnout.bloc.name,
            rows=turnout.rows,
            units=turnout.units,
            bot_username=services.bot_username,
        )
    )


async def on_group_command(message: Message, services: Services, ui: Ui) -> None:
    """A command that is not public: point to the private chat (after guarding codes)."""
    if await _guard(message, services, ui):
        return
    match = COMMAND_RE.match(message.text or "")
    mention = match.group(1) if match else None
    if mention and mention.casefold() != services.bot_username.casefold():
        return  # addressed to another bot in the group
    await message.answer(ui.text("private_only_group"))


async def _guard(message: Message, services: Services, ui: Ui) -> bool:
    leaked = await guard_group_text(
        services, _poster(message), message.text or message.caption or ""
    )
    if leaked is None:
        return False
    await _hide(message)
    await message.answer(ui.text("join_in_group"))
    return True


async def _hide(message: Message) -> None:
    # Needs the bot to be an admin of the group; without it the code is revoked anyway.
    with suppress(TelegramAPIError):
        await message.delete()
