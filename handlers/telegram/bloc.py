"""/bloc: create (wizard or one line), show, choose, officers, rotation, link the group."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.core.models import BlocKind
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.blocs import (
    BlocView,
    OfficersSet,
    bloc_view,
    check_draft,
    check_name,
    check_year,
    create_bloc,
    is_past,
    level_view,
    link_group,
    my_blocs,
    parse_kind,
    set_level,
    set_officers,
    set_publish_receipts,
    set_rotation,
    use_bloc,
)
from bot.services.newyear import plan_new_year, start_new_year
from bot.services.outcomes import Reason, Rejected
from handlers.telegram.menus import set_secretariat_menu
from handlers.telegram.ui import KindCb, Ui, answer_long, keyboard

# `/bloc level WORD`, `/bloc addressee TEXT|-`, `/bloc regulation TEXT|-`: which setting.
LEVEL_WORDS = {
    **dict.fromkeys(("level", "cap", "cấp"), "level"),
    **dict.fromkeys(
        ("addressee", "reportsto", "reports_to", "kinhgui", "kính_gửi", "kinh_gui"), "reports_to"
    ),
    **dict.fromkeys(("regulation", "quyche", "quy_chế", "quy_che"), "regulation"),
}


class ReceiptsCb(CallbackData, prefix="rcp"):
    on: bool  # publish receipt code -> choice after each secret ballot's count


class NewYearCb(CallbackData, prefix="ny"):
    y: int  # the year being closed: a second tap, or a stale button, changes nothing
    ok: bool


class PastYearCb(CallbackData, prefix="bpy"):
    ok: bool  # create the bloc of a past year held in the wizard's data, or drop it


class NewBloc(StatesGroup):
    name = State()
    kind = State()
    year = State()
    code = State()
    past = State()  # a past year's bloc waits for its confirm


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_bloc_link, Command("bloc", magic=F.args.regexp(r"^\s*link\s*$")))
    private = Router(name=__name__ + ".private")
    private.message.filter(F.chat.type == "private")
    private.message.register(cmd_bloc, Command("bloc"))
    private.message.register(on_name, StateFilter(NewBloc.name), F.text)
    private.message.register(on_kind_typed, StateFilter(NewBloc.kind), F.text)
    private.callback_query.register(on_kind, StateFilter(NewBloc.kind), KindCb.filter())
    private.message.register(on_year, StateFilter(NewBloc.year), F.text)
    private.message.register(on_code, StateFilter(NewBloc.code), F.text)
    private.callback_query.register(on_past_year, StateFilter(NewBloc.past), PastYearCb.filter())
    private.callback_query.register(on_receipts, ReceiptsCb.filter())
    private.callback_query.register(on_new_year, NewYearCb.filter())
    router.include_router(private)
    return router


def _year(services: Services) -> int:
    return services.clock.now().astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).year


async def cmd_bloc(
    message: Message,
    command: CommandObject,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    # The first word, then the rest as typed (a regulation may start on the next line).
    sub, rest = [*(command.args or "").strip().split(maxsplit=1), "", ""][:2]
    sub = sub.casefold()
    if sub in {"new", "moi", "mới", "tao", "tạo"}:
        await _start_new(message, rest, actor, services, ui, state)
    elif sub in {"use", "chon", "chọn"}:
        chosen = await use_bloc(services, actor, rest)
        await message.answer(
            ui.refusal(chosen)
            if isinstance(chosen, Rejected)
            else ui.text("bloc_chosen", bloc=chosen.name, code=chosen.code)
        )
    elif sub in {"leader", "truong", "trưởng"}:
        await _officers(message, services, actor, ui, leader_ref=rest, deputy_ref=None)
    elif sub in {"deputy", "pho", "phó"}:
        await _officers(message, services, actor, ui, leader_ref=None, deputy_ref=rest)
    elif sub in {"rotation", "luanphien", "luân_phiên"}:
        refs = [r for r in rest.replace(";", ",").split(",") if r.strip()]
        done = await set_rotation(services, actor, refs)
        await answer_long(
            message,
            ui.refusal(done)
            if isinstance(done, Rejected)
            else ui.text(
                "bloc_rotation_set", units=[u.name for u in done.units], kind=done.kind.value
            ),
        )
    elif sub in {"receipts", "bienlai", "biên_nhận", "bien_nhan"}:
        if rest.strip().casefold() in {"off", "tat", "tắt", "khong", "không"}:
            await _set_receipts(message, services, actor, ui, publish=False)
            return
        # Turning publication on makes votes provable: warn, and ask once more.
        refused = secretariat_bloc(actor)
        if isinstance(refused, Rejected):
            await message.answer(ui.refusal(refused))
            return
        view = await bloc_view(services, actor)
        publish = not isinstance(view, Rejected) and view.bloc.publish_receipts
        await message.answer(
            ui.text("bloc_receipts_warning", publish=publish),
            reply_markup=keyboard(
                [
                    [(ui.t("button.publish_receipts"), ReceiptsCb(on=True))],
                    [(ui.t("button.keep_receipts"), ReceiptsCb(on=False))],
                ]
            ),
        )
    elif sub in LEVEL_WORDS:
        await _level(message, services, actor, ui, **{LEVEL_WORDS[sub]: rest} if rest else {})
    elif sub.replace("_", "") in {"newyear", "nammoi", "nămmới"}:
        plan = await plan_new_year(services, actor)
        if isinstance(plan, Rejected):
            await message.answer(ui.refusal(plan))
            return
        await message.answer(
            ui.text("new_year_plan", plan=plan),
            reply_markup=keyboard(
                [
                    [
                        (
                            ui.t("button.new_year").format(year=plan.next_year),
                            NewYearCb(y=plan.year, ok=True),
                        )
                    ],
                    [(ui.t("button.cancel"), NewYearCb(y=plan.year, ok=False))],
                ]
            ),
        )
    elif sub == "link":
        await message.answer(ui.refusal(Rejected(Reason.GROUP_ONLY)))
    elif sub:
        await message.answer(ui.text("bloc_usage"))
    else:
        await _show(message, actor, services, ui)


async def _show(message: Message, actor: Actor, services: Services, ui: Ui) -> None:
    view = await bloc_view(services, actor)
    blocs = await my_blocs(services, actor)
    if isinstance(view, Rejected):
        if view.reason is Reason.NO_BLOC and blocs:
            await message.answer(ui.text("bloc_pick", blocs=[(b.name, b.code) for b in blocs]))
        elif actor.can_create_blocs:
            await message.answer(ui.text("bloc_none_admin"))
        else:
            await message.answer(ui.refusal(view))
        return
    await answer_long(message, _view_text(ui, view, others=len(blocs) - 1))


def _view_text(ui: Ui, view: BlocView, *, others: int) -> str:
    return ui.text(
        "bloc_view",
        bloc=view.bloc,
        kind=view.bloc.kind.value,
        units=len(view.units),
        leader=view.leader.name if view.leader else None,
        deputy=view.deputy.name if view.deputy else None,
        rotation=[u.short_name for u in view.rotation],
        next_leader=view.next_leader.name if view.next_leader else None,
        representatives=view.representatives,
        joined_units=view.units_with_representative,
        group_linked=view.bloc.group_chat_id is not None,
        telegram=True,  # a group is linked in Telegram, where this is read
        secretariat=view.is_secretariat,
        covenant=view.covenant,
        others=others,
    )


async def _officers(
    message: Message,
    services: Services,
    actor: Actor,
    ui: Ui,
    *,
    leader_ref: str | None,
    deputy_ref: str | None,
) -> None:
    if (leader_ref is not None and not leader_ref.strip()) or (
        deputy_ref is not None and not deputy_ref.strip()
    ):
        await message.answer(ui.text("bloc_usage"))
        return
    done = await set_officers(services, actor, leader_ref=leader_ref, deputy_ref=deputy_ref)
    if isinstance(done, OfficersSet):
        await message.answer(
            ui.text(
                "bloc_officers_set",
                bloc=done.bloc.name,
                kind=done.bloc.kind.value,
                leader=done.leader.name if done.leader else None,
                deputy=done.deputy.name if done.deputy else None,
            )
        )
    else:
        await message.answer(ui.refusal(done))


async def _start_new(
    message: Message, rest: str, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    if not actor.can_create_blocs:
        refused = Rejected(Reason.NOT_ALLOWED_CREATE, {"account": actor.account.spelled})
        await message.answer(ui.refusal(refused))
        return
    if rest.strip():
        parts = [p.strip() for p in rest.split(";")]
        if len(parts) not in (4, 5):
            await message.answer(ui.text("bloc_new_usage"))
            return
        tz = parts[4] if len(parts) == 5 else ""
        fields = (parts[0], parts[1], parts[2], parts[3], tz)
        await _create(message, actor, services, ui, state, *fields)
        return
    await state.set_state(NewBloc.name)
    await message.answer(ui.text("bloc_new_ask_name"))


async def on_name(message: Message, ui: Ui, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if text.startswith("/"):
        await state.clear()
        await message.answer(ui.text("wizard_cancelled"))
        return
    name = check_name(text)
    if isinstance(name, Rejected):
        await message.answer(ui.refusal(name))
        return
    await state.update_data(name=name)
    await state.set_state(NewBloc.kind)
    await message.answer(
        ui.text("bloc_new_ask_kind"),
        reply_markup=keyboard(
            [
                [
                    (ui.t("kind.khoi"), KindCb(kind=BlocKind.KHOI.value)),
                    (ui.t("kind.cum"), KindCb(kind=BlocKind.CUM.value)),
                ]
            ]
        ),
    )


async def on_kind(
    query: CallbackQuery, callback_data: KindCb, services: Services, ui: Ui, state: FSMContext
) -> None:
    kind = parse_kind(callback_data.kind)
    if kind is None:  # a forged button: only "khoi" and "cum" are ever sent
        await query.answer(ui.text("stale_button"), show_alert=True)
        return
    await query.answer()
    await state.update_data(kind=kind.value)
    await state.set_state(NewBloc.year)
    if isinstance(query.message, Message):
        await query.message.edit_text(ui.text("bloc_new_kind_chosen", kind=kind.value))
        await query.message.answer(ui.text("bloc_new_ask_year", year=_year(services)))


async def on_kind_typed(message: Message, services: Services, ui: Ui, state: FSMContext) -> None:
    kind = parse_kind(message.text or "")
    if kind is None:
        await message.answer(ui.refusal(Rejected(Reason.BAD_KIND, {"value": message.text})))
        return
    await state.update_data(kind=kind.value)
    await state.set_state(NewBloc.year)
    await message.answer(ui.text("bloc_new_ask_year", year=_year(services)))


async def on_year(message: Message, services: Services, ui: Ui, state: FSMContext) -> None:
    year = check_year(message.text or "", current_year=_year(services))
    if isinstance(year, Rejected):
        await message.answer(ui.refusal(year))
        return
    await state.update_data(year=str(year))
    await state.set_state(NewBloc.code)
    await message.answer(ui.text("bloc_new_ask_code"))


async def on_code(
    message: Message, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    data = await state.get_data()
    created = await _create(
        message,
        actor,
        services,
        ui,
        state,
        str(data["name"]),
        str(data["kind"]),
        str(data["year"]),
        message.text or "",
        "",
    )
    if created:
        await state.clear()


async def _create(
    message: Message,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
    name: str,
    kind: str,
    year: str,
    code: str,
    tz: str,
    *,
    confirmed: bool = False,
) -> bool:
    current = _year(services)
    draft = check_draft(name, kind, year, code, tz, current_year=current)
    if isinstance(draft, Rejected):
        await message.answer(ui.refusal(draft))
        return False
    if is_past(draft, current_year=current) and not confirmed:
        await state.set_data({"name": name, "kind": kind, "year": year, "code": code, "tz": tz})
        await state.set_state(NewBloc.past)
        await message.answer(
            ui.text("bloc_new_past_year", year=draft.year, current=current, name=draft.name),
            reply_markup=keyboard(
                [
                    [
                        (ui.t("button.past_year").format(year=draft.year), PastYearCb(ok=True)),
                        (ui.t("button.cancel"), PastYearCb(ok=False)),
                    ]
                ]
            ),
        )
        return False  # not created yet: the confirm step now holds the draft
    bloc = await create_bloc(services, actor, draft)
    if isinstance(bloc, Rejected):
        await message.answer(ui.refusal(bloc))
        return False
    await message.answer(ui.text("bloc_created", bloc=bloc, kind=bloc.kind.value))
    if message.bot is not None:
        await set_secretariat_menu(message.bot, services.renderer, message.chat.id, ui.locale)
    return True


async def on_past_year(
    query: CallbackQuery,
    callback_data: PastYearCb,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    await query.answer()
    data = await state.get_data()
    await state.clear()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if not callback_data.ok:
        await query.message.answer(ui.text("wizard_cancelled"))
        return
    fields = (str(data["name"]), str(data["kind"]), str(data["year"]), str(data["code"]))
    await _create(
        query.message, actor, services, ui, state, *fields, str(data["tz"]), confirmed=True
    )


async def cmd_bloc_link(message: Message, actor: Actor, services: Services, ui: Ui) -> None:
    linked = await link_group(
        services, actor, chat_id=message.chat.id, is_group=message.chat.type != "private"
    )
    await message.answer(
        ui.refusal(linked)
        if isinstance(linked, Rejected)
        else ui.text("bloc_linked", bloc=linked.name)
    )


async def on_receipts(
    query: CallbackQuery, callback_data: ReceiptsCb, actor: Actor, services: Services, ui: Ui
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _set_receipts(query.message, services, actor, ui, publish=callback_data.on)


async def on_new_year(
    query: CallbackQuery, callback_data: NewYearCb, actor: Actor, services: Services, ui: Ui
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if not callback_data.ok:
        await query.message.answer(ui.text("new_year_kept", year=callback_data.y))
        return
    done = await start_new_year(services, actor, year=callback_data.y)
    await query.message.answer(
        ui.refusal(done) if isinstance(done, Rejected) else ui.text("new_year_done", plan=done)
    )


async def _level(
    message: Message, services: Services, actor: Actor, ui: Ui, **setting: str
) -> None:
    """One setting changed (nothing typed after the word: the settings shown as they are)."""
    done = (
        await set_level(services, actor, **setting)
        if setting
        else await level_view(services, actor)
    )
    await answer_long(
        message, ui.refusal(done) if isinstance(done, Rejected) else ui.text("bloc_level", v=done)
    )


async def _set_receipts(
    message: Message, services: Services, actor: Actor, ui: Ui, *, publish: bool
) -> None:
    done = await set_publish_receipts(services, actor, publish)
    await message.answer(
        ui.refusal(done)
        if isinstance(done, Rejected)
        else ui.text("bloc_receipts_set", publish=done.publish_receipts)
    )
