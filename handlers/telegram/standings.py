"""/standings in private chat (the user's unit highlighted) and in the bloc's group."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.services import standings as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.outcomes import Rejected
from handlers.telegram.ui import Ui, answer_long


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_standings, Command("standings"), F.chat.type == "private")
    return router  # in a group: handlers/telegram/group.py, after its invite-code guard


async def cmd_standings(message: Message, actor: Actor, services: Services, ui: Ui) -> None:
    view = await svc.standings(services, actor)
    if isinstance(view, Rejected):
        await message.answer(ui.refusal(view))
        return
    await answer_long(message, ui.text("standings_view", view=view))
