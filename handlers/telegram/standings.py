"""/standings in private chat (the user's unit highlighted), as text with buttons for the chart
and the spreadsheet, or typed: `/standings chart`, `/standings xlsx`. In the bloc's group:
handlers/telegram/group.py (text and chart, after its invite-code guard)."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.core.text import fold_diacritics
from bot.services import standings as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.charts import standings_png
from bot.services.exports import standings_xlsx
from bot.services.outcomes import Rejected
from handlers.telegram.ui import Ui, answer_long, keyboard

CHART_WORDS = {"chart", "png", "bieudo", "bieu_do", "bieu-do", "do_thi"}
XLSX_WORDS = {"xlsx", "excel"}


class StandingsCb(CallbackData, prefix="st"):
    a: str  # "png" | "xlsx": the asker's standings as a chart or a spreadsheet


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_standings, Command("standings"), F.chat.type == "private")
    router.callback_query.register(on_standings, StandingsCb.filter())
    return router


async def send_chart(message: Message, view: svc.StandingsView, ui: Ui) -> None:
    data = await asyncio.to_thread(standings_png, view, locale=ui.locale.value)
    name = "xep-hang.png" if ui.locale.value == "vi" else "standings.png"
    await message.answer_photo(
        BufferedInputFile(data, filename=name), caption=ui.text("standings_chart", view=view)
    )


async def _send(message: Message, view: svc.StandingsView, ui: Ui, form: str) -> None:
    if form == "png":
        await send_chart(message, view, ui)
        return
    if form == "xlsx":
        data = await asyncio.to_thread(standings_xlsx, view, locale=ui.locale.value)
        name = "xep-hang.xlsx" if ui.locale.value == "vi" else "standings.xlsx"
        await message.answer_document(
            BufferedInputFile(data, filename=name),
            caption=ui.text("standings_caption", view=view),
        )
        return
    buttons = keyboard(
        [
            [
                (ui.t("button.standings_chart"), StandingsCb(a="png")),
                (ui.t("button.standings_xlsx"), StandingsCb(a="xlsx")),
            ]
        ]
    )
    await answer_long(message, ui.text("standings_view", view=view), reply_markup=buttons)


async def cmd_standings(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    word = fold_diacritics((command.args or "").strip()).replace(" ", "_")
    if word and word not in CHART_WORDS | XLSX_WORDS:
        await message.answer(ui.text("standings_usage"))
        return
    view = await svc.standings(services, actor)
    if isinstance(view, Rejected):
        await message.answer(ui.refusal(view))
        return
    await _send(message, view, ui, "png" if word in CHART_WORDS else word)


async def on_standings(
    query: CallbackQuery, callback_data: StandingsCb, actor: Actor, services: Services, ui: Ui
) -> None:
    await query.answer()
    if not isinstance(query.message, Message) or callback_data.a not in {"png", "xlsx"}:
        return
    view = await svc.standings(services, actor)  # now, not as it was when the text was sent
    if isinstance(view, Rejected):
        await query.message.answer(ui.refusal(view))
        return
    await _send(query.message, view, ui, callback_data.a)
