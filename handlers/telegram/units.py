"""/units and /invite: the secretariat's member units, imports, invites and removals."""

from __future__ import annotations

import io

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.invites import (
    IssuedInvite,
    deep_link,
    issue_invite,
    issue_missing_invites,
    revoke_unit_invites,
)
from bot.services.outcomes import Reason, Rejected
from bot.services.tabular import MAX_FILE_BYTES
from bot.services.units import (
    Imported,
    ImportRefused,
    UnitAdded,
    UnitView,
    add_unit,
    import_units,
    list_units,
    removal_plan,
    remove_member,
    remove_unit,
    unit_detail,
)
from handlers.telegram.ui import MemberCb, Ui, UnitCb, answer_long, answer_paced, keyboard


class ImportUnits(StatesGroup):
    waiting_file = State()


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(on_import_file, F.document, F.caption.regexp(r"^/units\s+import"))
    router.message.register(on_import_file, StateFilter(ImportUnits.waiting_file), F.document)
    router.message.register(on_import_not_file, StateFilter(ImportUnits.waiting_file))
    router.message.register(cmd_units, Command("units"))
    router.message.register(cmd_invite, Command("invite"))
    router.callback_query.register(on_unit_action, UnitCb.filter())
    router.callback_query.register(on_member_action, MemberCb.filter())
    return router


async def cmd_units(
    message: Message,
    command: CommandObject,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    sub, _, rest = (command.args or "").strip().partition(" ")
    if not sub:
        listing = await list_units(services, actor)
        await answer_long(
            message,
            ui.refusal(listing)
            if isinstance(listing, Rejected)
            else ui.text("units_list", view=listing),
        )
    elif sub.casefold() in {"add", "them", "thêm"}:
        parts = [p.strip() for p in rest.split(";")]
        if len(parts) < 2 or len(parts) > 3:
            await message.answer(ui.text("units_add_usage"))
            return
        added = await add_unit(
            services,
            actor,
            name=parts[0],
            short_name=parts[1],
            contact=parts[2] if len(parts) > 2 else "",
        )
        if isinstance(added, UnitAdded):
            await message.answer(ui.text("unit_added", unit=added.unit, number=added.number))
        elif isinstance(added, Rejected):
            await message.answer(ui.refusal(added))
        else:
            await message.answer(ui.text("unit_refused", problem=added.problem.value))
    elif sub.casefold() in {"remove", "xoa", "xóa"}:
        await _ask_remove(message, services, actor, ui, rest.strip())
    elif sub.casefold() in {"import", "nhap", "nhập"}:
        listing = await list_units(services, actor)
        if isinstance(listing, Rejected):
            await message.answer(ui.refusal(listing))
            return
        await state.set_state(ImportUnits.waiting_file)
        await message.answer(ui.text("units_import_ask"))
    else:
        detail = await unit_detail(services, actor, (command.args or "").strip())
        if isinstance(detail, Rejected):
            await message.answer(ui.refusal(detail))
            return
        await _send_detail(message, ui, detail)


async def _ask_remove(
    message: Message, services: Services, actor: Actor, ui: Ui, ref: str
) -> None:
    """`/units remove N`: what removing the unit does, behind a confirm button (or why it
    cannot be removed)."""
    if not ref:
        await message.answer(ui.text("units_remove_usage"))
        return
    detail = await unit_detail(services, actor, ref)
    plan = (
        detail
        if isinstance(detail, Rejected)
        else await removal_plan(services, actor, unit_id=detail.unit.id)
    )
    if isinstance(plan, Rejected):
        await message.answer(ui.refusal(plan))
        return
    confirm = UnitCb(action="del", unit_id=plan.unit.id)
    await message.answer(
        ui.text("unit_remove_confirm", unit=plan.unit.name, invites=plan.open_invites),
        reply_markup=keyboard([[(ui.t("button.remove_unit"), confirm)]]),
    )


async def _send_detail(message: Message, ui: Ui, detail: UnitView) -> None:
    rows: list[list[tuple[str, UnitCb | MemberCb | str]]] = [
        [
            (ui.t("button.invite"), UnitCb(action="invite", unit_id=detail.unit.id)),
            (ui.t("button.revoke"), UnitCb(action="revoke", unit_id=detail.unit.id)),
        ]
    ]
    rows += [
        [
            (
                ui.t("button.remove") + " " + rep.display_name,
                MemberCb(
                    action="rm",
                    identity_id=rep.id,
                    unit_id=detail.unit.id,
                    bloc_id=detail.unit.bloc_id,
                ),
            )
        ]
        for rep in detail.representatives
    ]
    await message.answer(ui.text("unit_detail", view=detail), reply_markup=keyboard(rows))


async def on_import_file(
    message: Message, bot: Bot, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    document = message.document
    if document is None:
        return
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        await message.answer(ui.text("units_import_unreadable", why="size"))
        return
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    result = await import_units(
        services, actor, filename=document.file_name or "", data=buffer.getvalue()
    )
    if isinstance(result, Imported):
        await state.clear()
        await answer_long(
            message,
            ui.text("units_imported", units=[u.name for u in result.units], total=result.total),
        )
    elif isinstance(result, ImportRefused):
        # The state stays: the secretariat can fix the file and send it again.
        if result.unreadable:
            await message.answer(
                ui.text("units_import_unreadable", why=result.unreadable, file=result.file)
            )
        else:
            await message.answer(
                ui.text("units_import_refused", rows=result.bad_rows, too_many=result.too_many)
            )
    else:
        await state.clear()
        await message.answer(ui.refusal(result))


async def on_import_not_file(message: Message, ui: Ui, state: FSMContext) -> None:
    if (message.text or "").startswith("/"):
        await state.clear()
        await message.answer(ui.text("wizard_cancelled"))
        return
    await message.answer(ui.text("units_import_need_file"))


async def cmd_invite(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    args = (command.args or "").split()
    if not args:
        await message.answer(ui.text("invite_usage"))
        return
    if args[0].casefold() in {"all", "tatca", "tất_cả"}:
        issued = await issue_missing_invites(services, actor)
        if isinstance(issued, Rejected):
            await message.answer(ui.refusal(issued))
            return
        await message.answer(ui.text("invites_all_header", count=len(issued)))
        await answer_paced(message, [_invite_text(ui, services, item, actor) for item in issued])
        return
    if args[0].casefold() in {"revoke", "thuhoi", "thu_hồi"}:
        done = await revoke_unit_invites(services, actor, target=" ".join(args[1:]))
        await message.answer(
            ui.refusal(done)
            if isinstance(done, Rejected)
            else ui.text("invites_revoked", unit=done.unit.name, count=done.count)
        )
        return
    # "/invite Phường 12" names a unit; "/invite SYT 3" is a unit and a number of uses.
    result = await issue_invite(services, actor, target=" ".join(args))
    if (
        isinstance(result, Rejected)
        and result.reason is Reason.UNKNOWN_UNIT
        and len(args) > 1
        and args[-1].isdecimal()
    ):
        result = await issue_invite(
            services, actor, target=" ".join(args[:-1]), max_uses=int(args[-1])
        )
    if isinstance(result, Rejected):
        await message.answer(ui.refusal(result))
    else:
        await message.answer(_invite_text(ui, services, result, actor))


def _invite_text(ui: Ui, services: Services, item: IssuedInvite, actor: Actor) -> str:
    tz = item.timezone
    return ui.text(
        "invite_issued",
        unit=item.unit.name if item.unit else None,
        role=item.role.value,
        code=item.display,
        link=deep_link(services.bot_username, item.code),
        expires_at=item.expires_at,
        tz=tz,
        max_uses=item.max_uses,
        replaced=item.revoked_before,
        bloc_id=actor.current_bloc_id,
    )


async def on_unit_action(
    query: CallbackQuery, callback_data: UnitCb, actor: Actor, services: Services, ui: Ui
) -> None:
    await query.answer()
    if callback_data.action == "del":
        await _remove(query, callback_data.unit_id, actor, services, ui)
        return
    listing = await list_units(services, actor)
    if isinstance(listing, Rejected):
        text = ui.refusal(listing)
    else:
        # The unit id in the payload is only honoured if it is a unit of the actor's bloc.
        view = next((v for v in listing.units if v.unit.id == callback_data.unit_id), None)
        if view is None or callback_data.action not in {"invite", "revoke"}:
            text = ui.text("stale_button")
        elif callback_data.action == "invite":
            result = await issue_invite(services, actor, target=str(view.number))
            text = (
                ui.refusal(result)
                if isinstance(result, Rejected)
                else _invite_text(ui, services, result, actor)
            )
        else:
            done = await revoke_unit_invites(services, actor, target=str(view.number))
            text = (
                ui.refusal(done)
                if isinstance(done, Rejected)
                else ui.text("invites_revoked", unit=done.unit.name, count=done.count)
            )
    if isinstance(query.message, Message):
        await query.message.answer(text)


async def _remove(
    query: CallbackQuery, unit_id: int, actor: Actor, services: Services, ui: Ui
) -> None:
    # The service checks the unit is one of the actor's bloc, and checks again what keeps it.
    removed = await remove_unit(services, actor, unit_id=unit_id)
    if not isinstance(query.message, Message):
        return
    if isinstance(removed, Rejected):
        gone = removed.reason is Reason.UNKNOWN_UNIT  # removed already, or not of this bloc
        await query.message.edit_text(ui.text("stale_button") if gone else ui.refusal(removed))
        return
    await query.message.edit_text(
        ui.text("unit_removed", unit=removed.unit.name, invites=removed.invites_revoked)
    )


async def on_member_action(
    query: CallbackQuery, callback_data: MemberCb, actor: Actor, services: Services, ui: Ui
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.action == "rm":
        confirm = callback_data.model_copy(update={"action": "rmok"})
        await query.message.answer(
            ui.text("member_remove_confirm"),
            reply_markup=keyboard([[(ui.t("button.confirm_remove"), confirm)]]),
        )
        return
    if callback_data.action != "rmok":
        await query.message.answer(ui.text("stale_button"))
        return
    removed = await remove_member(
        services,
        actor,
        bloc_id=callback_data.bloc_id,
        unit_id=callback_data.unit_id,
        identity_id=callback_data.identity_id,
    )
    if isinstance(removed, Rejected):
        await query.message.edit_text(ui.refusal(removed))
        return
    await query.message.edit_text(
        ui.text(
            "member_removed",
            person=removed.identity.display_name,
            unit=removed.unit.name if removed.unit else None,
        )
    )
