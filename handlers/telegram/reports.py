"""/report, /criteria, /period, /status, /review, /return, /export: reports and scores."""

from __future__ import annotations

import asyncio
import io

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Document, Message

from bot.core.scoring import ItemKind, format_points
from bot.render import points
from bot.services import reports as svc
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.exports import archive_plan, score_xlsx
from bot.services.outcomes import Rejected
from bot.services.scoring_files import TableRefused
from handlers.telegram.covenant import on_covenant_file
from handlers.telegram.ui import DbId, Ui, answer_long, keyboard

# Item by item; codes and values only; per group; totals only (always fits one message).
SUMMARY_FORMS = ("items", "codes", "groups", "totals")


class ReportFlow(StatesGroup):
    waiting_file = State()
    scoring = State()


class CriteriaImport(StatesGroup):
    waiting_file = State()


class PeriodCb(CallbackData, prefix="rp"):
    p: DbId  # period id
    u: DbId = 0  # unit id when the secretariat reports on a unit's behalf


class ScoreCb(CallbackData, prefix="sc"):
    d: DbId  # draft id (checked against the sender on the server)
    i: DbId  # item index
    v: DbId  # points in hundredths


class WalkCb(CallbackData, prefix="wk"):
    d: DbId
    a: str  # back | confirm | cancel
    i: DbId = 0


class ExportCb(CallbackData, prefix="ex"):
    p: DbId  # period number in /period
    a: str  # xlsx | zip


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(on_criteria_file, F.document, F.caption.regexp(r"^/criteria\b"))
    router.message.register(on_criteria_file, StateFilter(CriteriaImport.waiting_file), F.document)
    # The covenant's text as a file (handlers/telegram/covenant.py), before any loose document.
    router.message.register(on_covenant_file, F.document, F.caption.regexp(r"^/covenant\b"))
    router.message.register(cmd_criteria, Command("criteria"))
    router.message.register(cmd_period, Command("period"))
    router.message.register(cmd_report, Command("report"))
    router.message.register(cmd_status, Command("status"))
    router.message.register(cmd_review, Command("review"))
    router.message.register(cmd_return, Command("return"))
    router.message.register(cmd_export, Command("export"))
    # A document while scoring too: a corrected file replaces the draft's, answers are kept.
    router.message.register(
        on_report_file, StateFilter(ReportFlow.waiting_file, ReportFlow.scoring), F.document
    )
    router.message.register(
        on_report_photo, StateFilter(ReportFlow.waiting_file, ReportFlow.scoring), F.photo
    )
    router.message.register(on_waiting_text, StateFilter(ReportFlow.waiting_file))
    router.message.register(on_typed_points, StateFilter(ReportFlow.scoring), F.text)
    router.message.register(on_loose_document, StateFilter(None), F.document)
    router.message.register(on_report_photo, StateFilter(None), F.photo)
    router.callback_query.register(on_period_chosen, PeriodCb.filter())
    router.callback_query.register(on_score, ScoreCb.filter())
    router.callback_query.register(on_walk, WalkCb.filter())
    router.callback_query.register(on_export, ExportCb.filter())
    return router


# --- scoring table --------------------------------------------------------------------------


async def cmd_criteria(
    message: Message,
    command: CommandObject,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    if (command.args or "").strip().casefold() in {"import", "nhap", "nhập"}:
        allowed = secretariat_bloc(actor)
        if isinstance(allowed, Rejected):
            await message.answer(ui.refusal(allowed))
            return
        await state.set_state(CriteriaImport.waiting_file)
        await message.answer(ui.text("criteria_import_ask"))
        return
    current = await svc.current_table(services, actor)
    if isinstance(current, Rejected):
        await message.answer(ui.refusal(current))
        return
    await answer_long(
        message,
        ui.text("criteria_view", table=current.table, version=current.version, year=current.year),
    )


async def on_criteria_file(
    message: Message, bot: Bot, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    data = await _download(bot, message.document)
    if data is None:
        await message.answer(ui.text("table_unreadable", why="size"))
        return
    name = message.document.file_name if message.document else ""
    result = await svc.import_table(services, actor, filename=name or "", data=data)
    if isinstance(result, TableRefused):
        if result.unreadable:
            await message.answer(
                ui.text("table_unreadable", why=result.unreadable, file=result.file)
            )
        else:
            await answer_long(message, ui.text("table_refused", problems=result.problems))
        return
    await state.clear()
    if isinstance(result, Rejected):
        await message.answer(ui.refusal(result))
        return
    await answer_long(
        message,
        ui.text("table_imported", table=result.table, version=result.version, year=result.year),
    )


async def _download(
    bot: Bot, document: Document | None, limit: int = 2 * 1024 * 1024
) -> bytes | None:
    if document is None or (document.file_size or 0) > limit:
        return None
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    return buffer.getvalue()


# --- periods --------------------------------------------------------------------------------


async def cmd_period(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    sub, _, rest = (command.args or "").strip().partition(" ")
    parts = [p.strip() for p in rest.split(";")]
    if sub.casefold() in {"new", "mo", "mở"}:
        if not 3 <= len(parts) <= 6:
            await message.answer(ui.text("period_usage"))
            return
        optional = [*parts[3:], "", "", ""]
        opened = await svc.open_period(
            services,
            actor,
            kind_text=parts[0],
            title=parts[1],
            deadline_text=parts[2],
            policy_text=optional[0],
            max_mb_text=optional[1],
            types_text=optional[2],
        )
        if isinstance(opened, Rejected):
            await message.answer(ui.refusal(opened))
            return
        await message.answer(ui.text("period_opened", view=opened.view))
    elif sub.casefold() in {"extend", "giahan", "gia_hạn", "gia"}:
        if len(parts) != 2:
            await message.answer(ui.text("period_usage"))
            return
        extended = await svc.extend_period(
            services, actor, period_ref=parts[0], deadline_text=parts[1]
        )
        if isinstance(extended, Rejected):
            await message.answer(ui.refusal(extended))
            return
        await message.answer(
            ui.text("period_extended", view=extended.view, old=extended.old_deadline)
        )
    elif sub:
        await message.answer(ui.text("period_usage"))
    else:
        views = await svc.list_periods(services, actor)
        await message.answer(
            ui.refusal(views)
            if isinstance(views, Rejected)
            else ui.text("period_list", views=views)
        )


# --- the report walk ------------------------------------------------------------------------


async def cmd_report(
    message: Message,
    command: CommandObject,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    step = await svc.start_report(services, actor, unit_ref=(command.args or "").strip())
    await _show(message, step, ui, state, edit=False)


async def on_period_chosen(
    query: CallbackQuery,
    callback_data: PeriodCb,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    await query.answer()
    step = await svc.start_report(
        services, actor, period_id=callback_data.p, unit_id=callback_data.u or None
    )
    if isinstance(query.message, Message):
        await _show(query.message, step, ui, state, edit=True)


async def on_loose_document(
    message: Message, bot: Bot, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    """A file sent without /report: a representative surely means their report (a first
    file, or a corrected one for a draft paused after its file was sent)."""
    step = await svc.start_report(services, actor)
    if isinstance(step, svc.AskFile | svc.AskItem | svc.Summary):
        await state.update_data(draft_id=step.ctx.draft.id)
        await on_report_file(message, bot, actor, services, ui, state)
        return
    await _show(message, step, ui, state, edit=False)


async def on_report_file(
    message: Message, bot: Bot, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    document = message.document
    draft_id = int((await state.get_data()).get("draft_id", 0))
    if document is None or not draft_id:
        return
    name = document.file_name or ""
    checked = await svc.check_upload(
        services, actor, draft_id=draft_id, filename=name, size=document.file_size
    )
    if not isinstance(checked, svc.FileCheck):
        await _show(message, checked, ui, state, edit=False)
        return
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    step = await svc.attach_file(
        services, actor, draft_id=draft_id, filename=name, data=buffer.getvalue()
    )
    await _show(message, step, ui, state, edit=False)


async def on_report_photo(
    message: Message, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    draft_id = int((await state.get_data()).get("draft_id", 0))
    types = await svc.accepted_types(services, actor, draft_id=draft_id)
    await message.answer(ui.text("report_photo", types=types))


async def on_waiting_text(message: Message, ui: Ui, state: FSMContext) -> None:
    if (message.text or "").startswith("/"):
        # The draft is kept (as report_need_file promises): /report resumes it.
        await state.clear()
        await message.answer(ui.text("report_paused"))
        return
    await message.answer(ui.text("report_need_file"))


async def on_typed_points(
    message: Message, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    data = await state.get_data()
    text = message.text or ""
    if text.startswith("/"):
        await state.clear()
        await message.answer(ui.text("report_paused"))
        return
    step = await svc.answer(
        services,
        actor,
        draft_id=int(data.get("draft_id", 0)),
        index=int(data.get("index", 0)),
        text=text,
    )
    await _show(message, step, ui, state, edit=False)


async def on_score(
    query: CallbackQuery,
    callback_data: ScoreCb,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    await query.answer()
    step = await svc.answer(
        services,
        actor,
        draft_id=callback_data.d,
        index=callback_data.i,
        text=format_points(callback_data.v),
    )
    if isinstance(query.message, Message):
        await _show(query.message, step, ui, state, edit=True)


async def on_walk(
    query: CallbackQuery,
    callback_data: WalkCb,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if callback_data.a == "cancel":
        cancelled = await svc.cancel_draft(services, actor, draft_id=callback_data.d)
        await state.clear()
        if message is not None:
            await message.edit_text(ui.text("report_cancelled" if cancelled else "stale_button"))
        return
    if callback_data.a == "back":
        step = await svc.go_back(services, actor, draft_id=callback_data.d, index=callback_data.i)
        if message is not None:
            await _show(message, step, ui, state, edit=True)
        return
    done = await svc.confirm(services, actor, draft_id=callback_data.d)
    if message is None:
        return
    if isinstance(done, svc.Receipt):
        await state.clear()
        if not done.repeated:  # a double tap: the first tap shows this very receipt
            await message.edit_text(_receipt_text(ui, done))
    elif isinstance(done, svc.Reviewed):
        await state.clear()
        await message.edit_text(ui.text("review_saved", ctx=done.ctx, totals=done.totals))
    else:
        await _show(message, done, ui, state, edit=True)


def _receipt_text(ui: Ui, receipt: svc.Receipt) -> str:
    return ui.text(
        "report_receipt",
        ctx=receipt.ctx,
        submission=receipt.submission,
        totals=receipt.totals,
        tz=receipt.ctx.bloc.timezone,
    )


async def _show(
    message: Message,
    step: svc.ChoosePeriod | svc.Step | svc.FileReplaced | svc.WalkClosed | Rejected,
    ui: Ui,
    state: FSMContext,
    *,
    edit: bool,
) -> None:
    """Render one step of the walk, set the conversation state it expects, send or edit."""
    if isinstance(step, svc.FileReplaced):
        await message.answer(
            ui.text("report_file_replaced", old=step.old_name, new=step.step.ctx.draft.file_name)
        )
        step = step.step
    if isinstance(step, svc.AskFile | svc.AskItem | svc.Summary) and step.ctx.kept is not None:
        # On a unit's behalf, from what its representative typed: said before the step.
        await message.answer(ui.text("report_unit_draft_kept", kept=step.ctx.kept))
    if isinstance(step, svc.WalkClosed):
        await state.clear()
        text, markup = ui.refusal(step.rejected), None
    elif isinstance(step, Rejected):
        text, markup = ui.refusal(step), None
    elif isinstance(step, svc.ChoosePeriod):
        u = step.unit.id if step.on_behalf else 0
        text = ui.text("report_choose_period", choose=step)
        markup = keyboard([[(v.period.title, PeriodCb(p=v.period.id, u=u))] for v in step.periods])
    elif isinstance(step, svc.AskFile):
        await state.set_state(ReportFlow.waiting_file)
        await state.update_data(draft_id=step.ctx.draft.id)
        text = ui.text(
            "report_ask_file", ctx=step.ctx, timing=step.timing.value, tz=step.ctx.bloc.timezone
        )
        markup = keyboard([[(ui.t("button.cancel"), WalkCb(d=step.ctx.draft.id, a="cancel"))]])
    elif isinstance(step, svc.AskItem):
        await state.set_state(ReportFlow.scoring)
        await state.update_data(draft_id=step.ctx.draft.id, index=step.index)
        text = ui.text(
            "report_ask_item",
            step=step,
            item=step.item,
            total=len(step.ctx.table.items),
            current=step.ctx.draft.values.get(step.item.code),
            self_value=step.ctx.self_values.get(step.item.code),
            review=step.ctx.draft.purpose == svc.REVIEW,
            problem=step.problem.value if step.problem else None,
        )
        markup = keyboard(_item_buttons(ui, step))
    else:
        await state.set_state(ReportFlow.scoring)
        await state.update_data(draft_id=step.ctx.draft.id, index=len(step.ctx.table.items))
        # One message with its buttons: a long table is summed up more briefly.
        text = ui.fitting(
            "report_summary",
            SUMMARY_FORMS,
            ctx=step.ctx,
            totals=step.totals,
            groups=step.groups,
            review=step.ctx.draft.purpose == svc.REVIEW,
        )
        d = step.ctx.draft.id
        confirm = "button.save_review" if step.ctx.draft.purpose == svc.REVIEW else "button.submit"
        markup = keyboard(
            [
                [(ui.t(confirm), WalkCb(d=d, a="confirm"))],
                [
                    (ui.t("button.back"), WalkCb(d=d, a="back", i=len(step.ctx.table.items))),
                    (ui.t("button.cancel"), WalkCb(d=d, a="cancel")),
                ],
            ]
        )
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


def _item_buttons(ui: Ui, step: svc.AskItem) -> list[list[tuple[str, CallbackData | str]]]:
    item, d, i = step.item, step.ctx.draft.id, step.index
    values: list[int] = []
    self_value = step.ctx.self_values.get(item.code)
    if self_value is not None:
        values.append(self_value)
    if item.kind is ItemKind.CRITERION:
        values += [item.max_cp, (item.max_cp // 2) // 50 * 50, 0]
    else:
        values += [0, item.max_cp]
    unique = list(dict.fromkeys(values))
    rows: list[list[tuple[str, CallbackData | str]]] = [
        [(points(v, ui.locale.value), ScoreCb(d=d, i=i, v=v)) for v in unique]
    ]
    nav: list[tuple[str, CallbackData | str]] = []
    if i > 0:
        nav.append((ui.t("button.back"), WalkCb(d=d, a="back", i=i)))
    nav.append((ui.t("button.cancel"), WalkCb(d=d, a="cancel")))
    rows.append(nav)
    return rows


# --- the secretariat ------------------------------------------------------------------------


async def cmd_status(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    status = await svc.period_status(services, actor, period_ref=(command.args or "").strip())
    if isinstance(status, Rejected):
        await message.answer(ui.refusal(status))
        return
    number = status.view.number
    await answer_long(message, ui.text("status_view", status=status, tz=status.view.timezone))
    await message.answer(
        ui.text("status_actions"),
        reply_markup=keyboard(
            [
                [
                    (ui.t("button.export_xlsx"), ExportCb(p=number, a="xlsx")),
                    (ui.t("button.export_zip"), ExportCb(p=number, a="zip")),
                ]
            ]
        ),
    )


async def cmd_review(
    message: Message,
    command: CommandObject,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    unit_ref = (command.args or "").strip()
    if not unit_ref:
        await message.answer(ui.text("review_usage"))
        return
    step = await svc.start_review(services, actor, unit_ref=unit_ref)
    await _show(message, step, ui, state, edit=False)


async def cmd_return(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    parts = [p.strip() for p in (command.args or "").split(";", 2)]
    if len(parts) != 3:
        await message.answer(ui.text("return_usage"))
        return
    done = await svc.return_report(
        services, actor, unit_ref=parts[0], until_text=parts[1], comment=parts[2]
    )
    if isinstance(done, Rejected):
        await message.answer(ui.refusal(done))
        return
    await message.answer(ui.text("report_returned", done=done))


async def cmd_export(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    await _send_xlsx(message, actor, services, ui, (command.args or "").strip())


async def on_export(
    query: CallbackQuery, callback_data: ExportCb, actor: Actor, services: Services, ui: Ui
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.a == "xlsx":
        await _send_xlsx(query.message, actor, services, ui, str(callback_data.p))
        return
    entries = await svc.archive_entries(services, actor, period_ref=str(callback_data.p))
    if isinstance(entries, Rejected):
        await query.message.answer(ui.refusal(entries))
        return
    if not entries:
        await query.message.answer(ui.text("archive_empty"))
        return
    # Up to 45 MB a part: each is built off the event loop and sent before the next is built.
    plan = archive_plan(entries)
    for part in plan:
        data = await asyncio.to_thread(part.build)
        await query.message.answer_document(
            BufferedInputFile(data, filename=part.name),
            caption=ui.text(
                "archive_caption", part=part.number, parts=len(plan), files=len(entries)
            ),
        )


async def _send_xlsx(message: Message, actor: Actor, services: Services, ui: Ui, ref: str) -> None:
    sheet = await svc.score_sheet(services, actor, period_ref=ref)
    if isinstance(sheet, Rejected):
        await message.answer(ui.refusal(sheet))
        return
    data = await asyncio.to_thread(score_xlsx, sheet, locale=ui.locale.value)
    await message.answer_document(
        BufferedInputFile(
            data, filename="diem-thi-dua.xlsx" if ui.locale.value == "vi" else "scores.xlsx"
        ),
        caption=ui.text("export_caption", sheet=sheet),
    )
