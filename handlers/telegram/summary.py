"""/summary (secretariat): preview the conference summary, write its free paragraphs, post
it to the bloc's group (without a group: to each member in private)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.models import Locale
from bot.core.text import fold_diacritics
from bot.services import summary as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.outcomes import Rejected
from handlers.telegram.ui import Ui, answer_long

PARAGRAPHS = {
    "movements": "movements",
    "phongtrao": "movements",
    "closing": "closing",
    "ket": "closing",
}


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(cmd_summary, Command("summary"))
    return router


async def cmd_summary(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    sub, _, rest = (command.args or "").strip().partition(" ")
    word = fold_diacritics(sub).replace("_", "")
    words = [fold_diacritics(w) for w in (command.args or "").split()]
    if all(w in {"en", "vi"} or (w.isdecimal() and len(w) == 4) for w in words):
        year = next((int(w) for w in words if w.isdecimal()), None)
        data = await svc.summary(services, actor, year=year)
        if isinstance(data, Rejected):
            await message.answer(ui.refusal(data))
            return
        locale = Locale.EN if "en" in words else Locale.VI
        await answer_long(message, svc.render_summary(services, data, locale))
        await message.answer(ui.text("summary_usage"))
        return
    if word in PARAGRAPHS:
        changed = await svc.set_paragraph(services, actor, which=PARAGRAPHS[word], text=rest)
        if isinstance(changed, Rejected):
            await message.answer(ui.refusal(changed))
            return
        await answer_long(message, svc.render_summary(services, changed, Locale.VI))
        return
    if word in {"post", "dang"}:
        posted = await svc.post_summary(services, actor)
        await message.answer(
            ui.refusal(posted)
            if isinstance(posted, Rejected)
            else ui.text("summary_posted", members=posted.members)
        )
        return
    await message.answer(ui.text("summary_usage"))
