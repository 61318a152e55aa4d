"""/standings in private chat (the user's unit highlighted) and in the bloc's group."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message

from bot.services import standings as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.exports import standings_xlsx
from bot.services.outcomes import Rejected
from handlers.telegram.ui import Ui, answer_long


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_standings, Command("standings"), F.chat.type == "private")
    return router  # in a group: handlers/telegram/group.py, after its invite-code guard


async def cmd_standings(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    view = await svc.standings(services, actor)
    if isinstance(view, Rejected):
        await message.answer(ui.refusal(view))
        return
    if (command.args or "").strip().casefold() in {"xlsx", "excel"}:
        data = await asyncio.to_thread(standings_xlsx, view, locale=ui.locale.value)
        name = "xep-hang.xlsx" if ui.locale.value == "vi" else "standings.xlsx"
        await message.answer_document(
            BufferedInputFile(data, filename=name),
            caption=ui.text("standings_caption", view=view),
        )
        return
    await answer_long(message, ui.text("standings_view", view=view))
