"""/minutes (secretariat): the conference's minutes, the vote-count records attached to them
and the proposal memo, as three DOCX files, each followed by its PDF for digital signing when
LibreOffice is installed (`/minutes en` in English); `/minutes collect DEADLINE` asks the
proposed units for their achievement reports; `/minutes dossier` sends the whole award
dossier as one ZIP; `/minutes discussion KEY TEXT` writes an agenda item's discussion into the
minutes (`/minutes discussion` alone lists them)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message

from bot.core.text import MAX_CAPTION, TEXT_LIMITS, fold_diacritics
from bot.services import dossier
from bot.services import minutes as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.outcomes import Rejected
from handlers.telegram.ui import Ui, answer_documents, answer_long

DOSSIER = {"dossier", "hoso"}
COLLECT = {"collect", "thu"}
DISCUSSION = {"discussion", "thaoluan"}
AGENDA_ITEMS = {
    "report": "report",
    "baocao": "report",
    "awards": "awards",
    "khenthuong": "awards",
    "officers": "officers",
    "bau": "officers",
    "covenant": "covenant",
    "giaouoc": "covenant",
}


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(cmd_minutes, Command("minutes"))
    return router


async def cmd_minutes(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    args = (command.args or "").strip()
    first, _, rest = args.partition(" ")
    if fold_diacritics(first) in COLLECT and rest.strip():
        await _collect(message, actor, services, ui, rest)
        return
    head, tail = [*args.split(maxsplit=1), "", ""][:2]  # the item may start the next line
    if fold_diacritics(head) in DISCUSSION:
        await _discussion(message, actor, services, ui, tail)
        return
    words = [fold_diacritics(w) for w in args.split()]
    wants_dossier = bool(words) and words[0] in DOSSIER
    words = words[1:] if wants_dossier else words
    if not all(w in {"vi", "en"} or (w.isdecimal() and len(w) == 4) for w in words):
        await message.answer(ui.text("minutes_usage"))
        return
    locale = "en" if "en" in words else "vi"  # official documents are Vietnamese by default
    year = next((int(w) for w in words if w.isdecimal()), None)
    if wants_dossier:
        await _dossier(message, actor, services, ui, locale, year)
        return
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


async def _discussion(
    message: Message, actor: Actor, services: Services, ui: Ui, rest: str
) -> None:
    """Alone: what is entered per agenda item; `KEY TEXT`: write it (the text may go on over
    the following lines); an unknown item: the usage."""
    item, text = [*rest.split(maxsplit=1), "", ""][:2]
    key = AGENDA_ITEMS.get(fold_diacritics(item)) if item else None
    if item and key is None:
        await message.answer(ui.text("minutes_usage"))
        return
    done = (
        await svc.set_discussion(services, actor, key, text, locale=ui.locale)
        if key
        else await svc.discussion(services, actor, locale=ui.locale)
    )
    if isinstance(done, Rejected):
        await message.answer(ui.refusal(done))
        return
    await answer_long(message, ui.text("discussion_list", d=done, limit=TEXT_LIMITS["discussion"]))


async def _collect(message: Message, actor: Actor, services: Services, ui: Ui, when: str) -> None:
    opened = await dossier.open_collection(services, actor, deadline_text=when)
    if isinstance(opened, Rejected):
        await message.answer(ui.refusal(opened))
        return
    await message.answer(ui.text("achievement_opened", opened=opened))


async def _dossier(
    message: Message, actor: Actor, services: Services, ui: Ui, locale: str, year: int | None
) -> None:
    done = await dossier.dossier(services, actor, locale=locale, year=year)
    if isinstance(done, Rejected):
        await message.answer(ui.refusal(done))
        return
    caption = ui.fitting("dossier_caption", ("names", "count"), fit=MAX_CAPTION, d=done)
    await message.answer_document(
        BufferedInputFile(done.data, filename=done.name), caption=caption
    )
