"""/minutes (secretariat): the conference's minutes, the vote-count records attached to them
and the proposal memo, as three DOCX files, each followed by its PDF for digital signing when
LibreOffice is installed (`/minutes en` in English)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.text import fold_diacritics
from bot.services import minutes as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.outcomes import Rejected
from handlers.telegram.ui import Ui, answer_documents


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(cmd_minutes, Command("minutes"))
    return router


async def cmd_minutes(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    words = [fold_diacritics(w) for w in (command.args or "").split()]
    if not all(w in {"vi", "en"} or (w.isdecimal() and len(w) == 4) for w in words):
        await message.answer(ui.text("minutes_usage"))
        return
    locale = "en" if "en" in words else "vi"  # official documents are Vietnamese by default
    year = next((int(w) for w in words if w.isdecimal()), None)
    done = await svc.paperwork(services, actor, locale=locale, year=year)
    if isinstance(done, Rejected):
        await message.answer(ui.refusal(done))
        return
    t = services.renderer.t
    files = [(t(locale, "minutes.filename"), done.minutes, "minutes_caption")]
    if done.records is not None:
        files.append((t(locale, "minutes.records_filename"), done.records, "records_caption"))
    files.append((t(locale, "memo.filename"), done.memo, "memo_caption"))
    await answer_documents(
        message, ui, services.pdf, [(n, d, ui.text(c, p=done)) for n, d, c in files]
    )
