"""Joining: /start with an invite code (deep link or typed), a bare code, a move confirmation."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.types import CallbackQuery, Message

from bot.core.invites import code_in_message
from bot.core.models import Role
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.invites import (
    Joined,
    MoveNeeded,
    confirm_move,
    join,
)
from bot.services.outcomes import Rejected
from handlers.telegram.menus import set_secretariat_menu
from handlers.telegram.ui import MoveCb, Ui, keyboard
from handlers.texts import join_text


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_start, Command("join"))
    router.message.register(on_bare_code, StateFilter(None), _has_code)
    router.callback_query.register(on_move, MoveCb.filter())
    return router


async def cmd_start(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    if not command.args:
        await message.answer(
            ui.text("welcome", name=actor.identity.display_name, member=bool(actor.memberships))
        )
        return
    await _join(message, command.args, actor, services, ui)


async def _has_code(message: Message) -> dict[str, str] | bool:
    code = code_in_message(message.text) if message.text else None
    return {"code": code} if code else False


async def on_bare_code(
    message: Message, code: str, actor: Actor, services: Services, ui: Ui
) -> None:
    """A code typed alone, or a whole invite message forwarded to the bot."""
    await _join(message, code, actor, services, ui)


async def _join(message: Message, code: str, actor: Actor, services: Services, ui: Ui) -> None:
    outcome = await join(services, actor, code)
    if isinstance(outcome, MoveNeeded):
        await message.answer(
            ui.text(
                "join_move_confirm",
                current=outcome.current.name,
                target=outcome.target.name,
                bloc=outcome.bloc.name,
            ),
            reply_markup=keyboard(
                [
                    [
                        (ui.t("button.move_yes"), MoveCb(accept=True)),
                        (ui.t("button.move_no"), MoveCb(accept=False)),
                    ]
                ]
            ),
        )
        return
    await message.answer(join_text(ui, outcome))
    secretary = isinstance(outcome, Joined) and outcome.role is Role.SECRETARIAT
    if secretary and message.bot is not None:
        await set_secretariat_menu(message.bot, services.renderer, message.chat.id, ui.locale)


async def on_move(
    query: CallbackQuery, callback_data: MoveCb, actor: Actor, services: Services, ui: Ui
) -> None:
    outcome = await confirm_move(services, actor, accept=callback_data.accept)
    await query.answer()
    text = join_text(ui, outcome)
    if isinstance(outcome, Rejected) and outcome.detail.get("cancelled"):
        text = ui.text("join_move_cancelled")
    if isinstance(query.message, Message):
        await query.message.edit_text(text)
