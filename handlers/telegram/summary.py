"""/summary (secretariat): preview the conference summary, write its free paragraphs, enter
what the hall saw (the awards handed out, the launch of next year's movement), post it to the
bloc's group (without a group: to each member in private)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.models import Locale
from bot.core.text import fold_diacritics
from bot.services import hall_record
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
HANDED_OUT = frozenset({"awards", "khenthuong", "trao"})
LAUNCH = frozenset({"launch", "phatdong"})
REMOVE = frozenset({"remove", "xoa", "bo"})


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(cmd_summary, Command("summary"))
    return router


async def cmd_summary(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    sub, rest = [*(command.args or "").split(maxsplit=1), "", ""][:2]
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
    if word in HANDED_OUT:
        await _handed_out(message, rest, actor, services, ui)
        return
    if word in LAUNCH:
        launched = await hall_record.set_launch(services, actor, rest)
        if isinstance(launched, Rejected):
            await message.answer(ui.refusal(launched))
            return
        await answer_long(message, svc.render_summary(services, launched, Locale.VI))
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


async def _handed_out(
    message: Message, rest: str, actor: Actor, services: Services, ui: Ui
) -> None:
    """`/summary awards` lists them; `… remove 2` removes one; anything else adds one."""
    head, _, number = rest.strip().partition(" ")
    if not rest.strip():
        done = await svc.summary(services, actor)
    elif fold_diacritics(head) in REMOVE and number.strip().isdecimal():
        done = await hall_record.remove_handed_out(services, actor, int(number.strip()[:9]))
    else:
        done = await hall_record.add_handed_out_line(services, actor, rest)
    if isinstance(done, Rejected):
        await message.answer(ui.refusal(done))
        return
    await answer_long(message, ui.text("handed_out_list", s=done))
