"""/deadlines (everyone: open deadlines and the unit's status; secretariat: add, cancel,
reminder settings), the «Đã nhận» button of a custom deadline, and /announce."""

from __future__ import annotations

import secrets

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.deadlines import DeadlineKind, ReminderSettings
from bot.core.text import fold_diacritics, split_message
from bot.services import announce as ann
from bot.services import deadlines as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.deadlines import DeadlineLine
from bot.services.outcomes import Rejected
from handlers.telegram.ui import DbId, Ui, keyboard


class AckCb(CallbackData, prefix="dl"):
    d: DbId  # the custom deadline; the unit is the sender's, checked on the server
    a: str  # "ack" | "cx" (withdraw it, secretariat) | "keep"


class AnnounceCb(CallbackData, prefix="an"):
    t: str  # "all", a deadline key with "-" for ":" ("period-3"), or "x" (cancel)
    k: str  # the preview's draft: its text waits in the conversation data under this key


DRAFTS = "announce"  # conversation data: draft key -> the text its preview would send
KEEP_DRAFTS = 5


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(cmd_deadlines, Command("deadlines"))
    router.message.register(cmd_announce, Command("announce"))
    router.callback_query.register(on_ack, AckCb.filter(F.a == "ack"))
    router.callback_query.register(on_cancel, AckCb.filter(F.a.in_({"cx", "keep"})))
    router.callback_query.register(on_announce, AnnounceCb.filter())
    return router


async def cmd_deadlines(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    sub, _, rest = (command.args or "").strip().partition(" ")
    word = fold_diacritics(sub)
    parts = [p.strip() for p in rest.split(";")]
    if not sub:
        view = await svc.deadlines_view(services, actor)
        if isinstance(view, Rejected):
            await message.answer(ui.refusal(view))
            return
        # A button per deadline the unit has not acted on: it opens the action.
        buttons = [
            [
                InlineKeyboardButton(
                    text=f"{d.number}. {ui.t(d.action.text[2:])}",
                    callback_data=d.action.callback_data,
                )
            ]
            for d in view.lines
            if d.acted is False and d.action is not None
        ]
        text = ui.text("deadlines_view", view=view)
        *first, last = split_message(text)
        for part in first:
            await message.answer(part)
        markup = InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None
        await message.answer(last, reply_markup=markup)
    elif word in {"add", "them"} and len(parts) == 2:
        added = await svc.add_deadline(services, actor, title=parts[0], due_text=parts[1])
        await message.answer(
            ui.refusal(added)
            if isinstance(added, Rejected)
            else ui.text(
                "deadline_added",
                number=added.number,
                title=added.title,
                due=added.due,
                tz=added.tz,
                told=added.told,
            )
        )
        await services.outbox_flush()
    elif word in {"cancel", "huy"} and rest.strip():
        found = await svc.deadline_to_cancel(services, actor, ref=rest)
        if isinstance(found, Rejected):
            await message.answer(ui.refusal(found))
            return
        await message.answer(
            ui.text("deadline_cancel_confirm", deadline=found),
            reply_markup=keyboard(
                [
                    [
                        (ui.t("button.cancel_deadline"), AckCb(d=found.deadline_id, a="cx")),
                        (ui.t("button.keep_deadline"), AckCb(d=found.deadline_id, a="keep")),
                    ]
                ]
            ),
        )
    elif word in {"remind", "nhac"} and len(parts) == 2:
        changed = await svc.set_offsets(services, actor, kind_text=parts[0], offsets_text=parts[1])
        await _settings(message, ui, changed)
    elif word in {"quiet", "yenlang", "gioyenlang"} and rest.strip():
        changed = await svc.set_quiet(services, actor, text=rest)
        await _settings(message, ui, changed)
    else:
        await message.answer(ui.text("deadlines_usage"))


async def _settings(message: Message, ui: Ui, changed: object) -> None:
    if isinstance(changed, Rejected):
        await message.answer(ui.refusal(changed))
        return
    assert isinstance(changed, ReminderSettings)
    rows = [(k.value, changed.offsets_for(k)) for k in DeadlineKind]
    await message.answer(ui.text("reminders_set", rows=rows, quiet=changed.quiet))


async def on_ack(
    query: CallbackQuery, callback_data: AckCb, actor: Actor, services: Services, ui: Ui
) -> None:
    done = await svc.acknowledge(services, actor, deadline_id=callback_data.d)
    if isinstance(done, Rejected):
        await query.answer(ui.refusal(done), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(ui.text("deadline_acknowledged", ack=done))


async def on_cancel(
    query: CallbackQuery, callback_data: AckCb, actor: Actor, services: Services, ui: Ui
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if callback_data.a == "keep":
        await query.message.answer(ui.text("deadline_kept"))
        return
    done = await svc.cancel_deadline(services, actor, deadline_id=callback_data.d)
    await query.message.answer(
        ui.refusal(done)
        if isinstance(done, Rejected)
        else ui.text("deadline_cancelled", title=done)
    )


# --- /announce ---------------------------------------------------------------------------------


async def cmd_announce(
    message: Message,
    command: CommandObject,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    args = (command.args or "").strip()
    if not args:
        await message.answer(ui.text("announce_usage"))
        return
    head, sep, tail = args.partition(";")
    target = fold_diacritics(head).replace(" ", "")
    if sep and (target.isdecimal() or target in {"tatca", "all"}):
        # Typed form: "/announce 2; text" or "/announce tất cả; text".
        done = await ann.announce(
            services,
            actor,
            text=tail,
            target=ann.EVERYONE if target in {"tatca", "all"} else target,
            ref=f"{message.chat.id}:{message.message_id}",
        )
        await message.answer(
            ui.refusal(done) if isinstance(done, Rejected) else ui.text("announce_sent", done=done)
        )
        await services.outbox_flush()
        return
    choices = await ann.targets(services, actor, text=args)
    if isinstance(choices, Rejected):
        await message.answer(ui.refusal(choices))
        return
    # Each preview keeps its own text under its own key (no conversation state is set: other
    # messages go on as usual); a later /announce does not change what earlier buttons send.
    draft = secrets.token_hex(4)
    drafts = dict((await state.get_data()).get(DRAFTS, {}))
    drafts[draft] = choices.text
    await state.update_data({DRAFTS: dict(list(drafts.items())[-KEEP_DRAFTS:])})
    rows = [[(ui.t("button.announce_all"), AnnounceCb(t=ann.EVERYONE, k=draft))]]
    rows += [
        [(_label(ui, line), AnnounceCb(t=line.key.replace(":", "-"), k=draft))]
        for line in choices.lines
        if line.done < line.total
    ]
    rows.append([(ui.t("button.cancel"), AnnounceCb(t="x", k=draft))])
    await message.answer(ui.text("announce_preview", targets=choices), reply_markup=keyboard(rows))


def _label(ui: Ui, line: DeadlineLine) -> str:
    """A button's text: plain (no HTML entities), short."""
    label = ui.label("announce_target", line=line)
    return f"{line.number}. " + (label if len(label) <= 60 else label[:59] + "…")


async def on_announce(
    query: CallbackQuery,
    callback_data: AnnounceCb,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    drafts = dict((await state.get_data()).get(DRAFTS, {}))
    text = drafts.pop(callback_data.k, None)
    await state.update_data({DRAFTS: drafts})
    await query.message.edit_reply_markup(reply_markup=None)
    if text is None:  # already sent or cancelled: a second tap sends nothing
        await query.message.answer(ui.text("stale_button"))
        return
    if callback_data.t == "x":
        await query.message.answer(ui.text("announce_cancelled"))
        return
    target = callback_data.t.replace("-", ":")
    done = await ann.announce(
        services,
        actor,
        text=str(text),
        target=target,
        ref=f"{query.message.chat.id}:{callback_data.k}",
    )
    await query.message.answer(
        ui.refusal(done) if isinstance(done, Rejected) else ui.text("announce_sent", done=done)
    )
    await services.outbox_flush()
