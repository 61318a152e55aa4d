"""/conference, /checkin, /ballot, /vote: the conference and its votes in chat."""

from __future__ import annotations

import logging
import re

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)

from bot.core.sealing import RECEIPT_SHAPE
from bot.core.text import fold_diacritics
from bot.core.venue import checkin_setting_words, parse_venue_setting
from bot.core.voting import CastRejection, Choice, Option, OptionKind
from bot.services import hall
from bot.services import voting as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from handlers.telegram.conference import start_walk
from handlers.telegram.ui import DbId, Ui, answer_documents, answer_long, keyboard
from handlers.texts import cast_text

BLANK = -1  # the blank ballot (Phiếu trắng) in callback data
DRAFT = -2  # "the multi-choice selection kept on the server"
log = logging.getLogger(__name__)
CODE_ISH = re.compile(r"^[0-9A-Za-z\s._-]{6,24}$")  # what a mistyped receipt code may look like


class VoteCb(CallbackData, prefix="vt"):
    b: DbId  # ballot id; the voter is always the sender, checked on the server
    a: str  # show | pick | tog | blank | review | ok | back | check
    i: DbId = 0  # option index, BLANK or DRAFT
    v: DbId = 0  # the selection version a multi-choice confirm was shown for (0: unknown)

    def pack(self) -> str:
        # The version matters only on a multi-choice confirm; other buttons stay short.
        packed = super().pack()
        suffix = f"{self.__separator__}0"
        return packed[: -len(suffix)] if self.v == 0 and packed.endswith(suffix) else packed

    @classmethod
    def unpack(cls, value: str) -> VoteCb:
        # Buttons sent before the version field existed carry three parts.
        if value.count(cls.__separator__) == 3:
            value += f"{cls.__separator__}0"
        return super().unpack(value)


class VoteOther(StatesGroup):
    text = State()


class ReceiptCheck(StatesGroup):
    code = State()  # holds no data: the code itself is never kept in conversation storage


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(cmd_conference, Command("conference"))
    router.message.register(cmd_checkin, Command("checkin"))
    router.message.register(cmd_ballot, Command("ballot"))
    router.message.register(cmd_vote, Command("vote"))
    router.message.register(on_other_text, StateFilter(VoteOther.text), F.text)
    router.message.register(on_receipt_text, StateFilter(ReceiptCheck.code), F.text)
    # A receipt code pasted at any time is checked (three groups of four characters).
    router.message.register(on_receipt_text, StateFilter(None), F.text.regexp(RECEIPT_SHAPE))
    router.callback_query.register(on_vote, VoteCb.filter())
    return router


# --- the conference -------------------------------------------------------------------------


async def cmd_conference(
    message: Message,
    command: CommandObject,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    sub, _, rest = (command.args or "").strip().partition(" ")
    if sub.casefold() in {"new", "moi", "mới"}:
        if not rest.strip():
            await start_walk(message, actor, ui, state)  # step by step
            return
        fields = svc.split_conference_fields(rest)
        view = (
            fields
            if isinstance(fields, Rejected)
            else await svc.setup_conference(services, actor, fields)
        )
    elif (setting_words := checkin_setting_words(command.args or "")) is not None:
        setting = parse_venue_setting(setting_words)
        if setting is None:
            await message.answer(ui.text("conference_usage"))
            return
        view = await svc.set_venue_checkin(services, actor, setting.stored)
    elif fold_diacritics(sub) in SCREEN_WORDS:
        await _screen(message, actor, services, ui, rest)
        return
    elif fold_diacritics(sub) in END_WORDS and rest.strip():
        view = await svc.set_conference_end(services, actor, rest)
    elif sub:
        await message.answer(ui.text("conference_usage"))
        return
    else:
        view = await svc.conference_view(services, actor)
    if isinstance(view, Rejected):
        await message.answer(ui.refusal(view))
        return
    await answer_long(message, ui.text("conference_view", view=view))


END_WORDS = frozenset({"end", "ended", "ketthuc", "ket_thuc", "ket"})
SCREEN_WORDS = frozenset({"screen", "manhinh", "man_hinh", "maychieu", "may_chieu"})
SCREEN_OFF_WORDS = frozenset({"off", "tat", "thu hoi", "huy", "revoke"})


async def _screen(message: Message, actor: Actor, services: Services, ui: Ui, rest: str) -> None:
    """/conference screen: the hall screen's link; /conference screen off: every link
    revoked."""
    if fold_diacritics(rest).strip(" .!") in SCREEN_OFF_WORDS:
        revoked = await hall.revoke_screens(services, actor)
        await message.answer(
            ui.refusal(revoked)
            if isinstance(revoked, Rejected)
            else ui.text("screen_revoked", count=revoked.count)
        )
        return
    issued = await hall.issue_screen(services, actor)
    if isinstance(issued, Rejected):
        await message.answer(ui.refusal(issued))
        return
    await message.answer(
        ui.text("screen_link", url=issued.url, expires_at=issued.expires_at, tz=issued.tz),
        # Telegram would fetch the link for a preview: nothing secret, but nothing to see.
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def cmd_checkin(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    done = await svc.check_in(services, actor, command.args or "")
    await message.answer(
        ui.refusal(done) if isinstance(done, Rejected) else ui.text("checked_in", done=done)
    )


# --- the secretariat's /ballot ----------------------------------------------------------------


async def cmd_ballot(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    sub, _, rest = (command.args or "").strip().partition(" ")
    word = sub.casefold()
    parts = [p.strip() for p in rest.split(";")]
    if not sub:
        view = await svc.conference_view(services, actor)
        text = (
            ui.refusal(view) if isinstance(view, Rejected) else ui.text("ballot_list", view=view)
        )
        await answer_long(message, text)
    elif word in {"defaults", "macdinh", "mặc_định", "all"}:
        created = await svc.create_conference_ballots(services, actor)
        await answer_long(
            message,
            ui.refusal(created)
            if isinstance(created, Rejected)
            else ui.text("ballots_created", view=created.view),
        )
    elif word in {"new", "moi", "mới"}:
        line = await svc.create_custom_ballot(services, actor, title=rest)
        await message.answer(
            ui.refusal(line)
            if isinstance(line, Rejected)
            else ui.text("ballot_created", number=line.number)
        )
    elif word in {"open", "mo", "mở"}:
        await _open(message, actor, services, ui, parts)
    elif word in {"schedule", "hengio", "hẹn_giờ", "hen"} and len(parts) in (2, 3):
        scheduled = await svc.schedule_ballot(
            services,
            actor,
            ref=parts[0],
            opens_text=parts[1],
            closes_text=parts[2] if len(parts) == 3 else "",
        )
        await message.answer(
            ui.refusal(scheduled)
            if isinstance(scheduled, Rejected)
            else ui.text(
                "ballot_scheduled",
                ballot=scheduled.ballot,
                opens_at=scheduled.opens_at,
                closes_at=scheduled.closes_at,
                tz=scheduled.tz,
            )
        )
    elif word in {"close", "dong", "đóng"}:
        await _close(message, actor, services, ui, parts[0])
    elif word in {"extend", "giahan", "gia"} and len(parts) == 2:
        changed = await svc.extend_ballot(services, actor, ref=parts[0], closes_text=parts[1])
        await _changed(message, ui, changed, "ballot_extended")
    elif word in {"cancel", "huy", "hủy"} and len(parts) == 2:
        changed = await svc.cancel_ballot(services, actor, ref=parts[0], reason=parts[1])
        await _changed(message, ui, changed, "ballot_cancelled")
    elif word in {"decide", "quyetdinh", "quyết_định"} and len(parts) == 2:
        decided = await svc.decide(services, actor, ref=parts[0], unit_ref=parts[1])
        await message.answer(
            ui.refusal(decided)
            if isinstance(decided, Rejected)
            else ui.text("ballot_decided", decided=decided)
        )
    elif word in {"record", "bienban", "biên_bản"}:
        out = await svc.vote_record(services, actor, ref=parts[0], locale=ui.locale.value)
        if isinstance(out, Rejected):
            await message.answer(ui.refusal(out))
            return
        await answer_long(message, ui.text("ballot_result", **out.context))
        caption = ui.text("record_caption", ballot=out.context["ballot"])
        await answer_documents(message, ui, services.pdf, [(out.filename, out.docx, caption)])
    elif word in {"secret", "kin", "kín"} and len(parts) == 2 and _on_off(parts[1]) is not None:
        marked = await svc.set_secret(
            services, actor, ref=parts[0], secret=bool(_on_off(parts[1]))
        )
        await message.answer(
            ui.refusal(marked)
            if isinstance(marked, Rejected)
            else ui.text("ballot_secret_set", ballot=marked)
        )
    elif word in {"written", "phieugiay", "giay"} and len(parts) == 3:
        written = await svc.written_vote(
            services, actor, ref=parts[0], unit_ref=parts[1], choice_text=parts[2]
        )
        await message.answer(
            ui.refusal(written)
            if isinstance(written, Rejected)
            else ui.text("vote_written", view=written.view, replaced=written.replaced)
        )
    else:
        await message.answer(ui.text("ballot_usage"))


async def _open(
    message: Message, actor: Actor, services: Services, ui: Ui, parts: list[str]
) -> None:
    opened = await svc.open_ballot(
        services, actor, ref=parts[0], closes_text=parts[1] if len(parts) > 1 else ""
    )
    if isinstance(opened, Rejected):
        await message.answer(ui.refusal(opened))
        return
    await message.answer(ui.text("ballot_opened", ballot=opened.ballot, units=opened.units))


async def _close(message: Message, actor: Actor, services: Services, ui: Ui, ref: str) -> None:
    closed = await svc.close_ballot(services, actor, ref=ref)
    if isinstance(closed, Rejected):
        await message.answer(ui.refusal(closed))
        return
    await answer_long(message, ui.text("ballot_result", **closed.group_text_context))


async def _changed(
    message: Message,
    ui: Ui,
    changed: svc.BallotChanged | Rejected,
    template: str,
) -> None:
    if isinstance(changed, Rejected):
        await message.answer(ui.refusal(changed))
        return
    await message.answer(ui.text(template, ballot=changed.ballot))


# --- voting ---------------------------------------------------------------------------------


def _on_off(word: str) -> bool | None:
    """on / off as a secretary may type it: "kín", "công khai", "bật", "tắt" (any case,
    with or without diacritics)."""
    folded = re.sub(r"[\s_-]", "", fold_diacritics(word).casefold())
    if folded in {"on", "bat", "co", "yes", "kin", "bophieukin", "secret"}:
        return True
    if folded in {"off", "tat", "khong", "no", "congkhai", "open", "bieuquyet"}:
        return False
    return None


async def cmd_vote(
    message: Message,
    command: CommandObject,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    if await state.get_state() == ReceiptCheck.code.state:
        await state.clear()
    sub, _, rest = (command.args or "").strip().partition(" ")
    if sub.casefold() in {"check", "kiemtra", "kiểm_tra"}:
        if actor.current_bloc_id is None:
            await message.answer(
                ui.refusal(Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER))
            )
            return
        if rest.strip():
            await _answer_receipt(message, actor, services, ui, rest)
        else:
            await state.set_state(ReceiptCheck.code)
            await message.answer(ui.text("receipt_ask"))
        return
    views = await svc.open_ballots_for(services, actor)
    if isinstance(views, Rejected):
        await message.answer(ui.refusal(views))
        return
    check = await svc.has_secret_ballots(services, actor)
    check_row = [(ui.t("button.check_receipt"), VoteCb(b=0, a="check"))]
    if not views:
        markup = keyboard([check_row]) if check else None
        await message.answer(ui.text("vote_none"), reply_markup=markup)
        return
    rows = [
        [(ui.label("vote_list_button", view=v), VoteCb(b=v.info.ballot.id, a="show"))]
        for v in views
    ]
    if check:
        rows.append(check_row)
    await message.answer(ui.text("vote_list", views=views), reply_markup=keyboard(rows))


async def on_receipt_text(
    message: Message, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    text = (message.text or "").strip()
    if text.startswith("/"):
        await state.clear()
        await message.answer(ui.text("wizard_cancelled"))
        return
    if await _answer_receipt(message, actor, services, ui, text) or not CODE_ISH.match(text):
        # Asked again only while what is typed still looks like a mistyped code; ordinary
        # text ends the wait (a receipt pasted later is still recognised).
        await state.clear()


async def _answer_receipt(
    message: Message, actor: Actor, services: Services, ui: Ui, typed: str
) -> bool:
    """Check a receipt code; False when it was not a code (asked again, nothing kept)."""
    out = await svc.check_receipt(services, actor, typed=typed)
    if isinstance(out, Rejected):
        await message.answer(ui.refusal(out))
        return out.reason is not Reason.BAD_RECEIPT
    await message.answer(
        ui.text(
            "receipt_result",
            receipt=out.receipt,
            bloc=out.bloc,
            found=out.found,
            ballot=out.ballot,
            choice=out.choice,
        )
    )
    return True


async def on_vote(
    query: CallbackQuery,
    callback_data: VoteCb,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    b, a, i = callback_data.b, callback_data.a, callback_data.i
    message = query.message if isinstance(query.message, Message) else None
    if a not in {"ok", "pick"} and await state.get_state() == VoteOther.text.state:
        await state.clear()  # the other-opinion text is no longer awaited
    if a == "check":
        await query.answer()
        await state.set_state(ReceiptCheck.code)
        if message is not None:
            await message.answer(ui.text("receipt_ask"))
        return
    if a == "ok":
        await query.answer()
        # Only a conversation step (the text for "ý kiến khác") leaves data behind: without
        # one, there is nothing to read or clear (one round trip to Redis, not three).
        waiting = await state.get_state() is not None
        data = await state.get_data() if waiting and i >= 0 else {}
        choice = _choice(i, str(data.get("other_text", "")))
        done = await svc.cast_vote(
            services,
            actor,
            ballot_id=b,
            choice=choice,
            version=callback_data.v if i == DRAFT and callback_data.v else None,
        )
        if waiting:
            await state.clear()
        if isinstance(done, Rejected):
            await _reply_in_place(query, message, ui.refusal(done))
            return
        # A secret ballot's receipt appears here once, in the reply; it is kept nowhere, so
        # the reply must arrive even when the confirm message can no longer be edited.
        await _reply_in_place(
            query,
            message,
            cast_text(ui, done),
            _after_cast_keyboard(ui, done.view),
        )
        return
    if a == "tog":
        result: svc.VoteView | Rejected = await svc.toggle(services, actor, ballot_id=b, index=i)
    elif a in {"pick", "blank", "review"}:
        view = await svc.vote_view(services, actor, ballot_id=b)
        if (
            a == "pick"
            and isinstance(view, svc.VoteView)
            and (opt := view.info.ballot.option(i)) is not None
            and opt.kind is OptionKind.OTHER
        ):
            await query.answer()
            await state.set_state(VoteOther.text)
            await state.update_data(ballot_id=b, index=i)
            if message is not None:
                await message.answer(ui.text("vote_other_ask"))
            return
        if a == "pick" and await state.get_state() == VoteOther.text.state:
            await state.clear()
        choice = None if a == "review" else _choice(BLANK if a == "blank" else i, "")
        result = await svc.preview(services, actor, ballot_id=b, choice=choice)
    else:  # show | back
        result = await svc.vote_view(services, actor, ballot_id=b)
    if isinstance(result, Rejected):
        if _ballot_over(result):
            # Said in the message itself (a toast is easily missed), and its buttons go.
            await query.answer()
            await _reply_in_place(query, message, ui.refusal(result))
            return
        await query.answer(ui.refusal(result)[:200], show_alert=True)
        return
    await query.answer()
    if message is None:
        return
    if result.pending is not None:
        await message.edit_text(
            ui.text("vote_confirm", view=result), reply_markup=_confirm_keyboard(ui, result)
        )
    elif a == "show" and message.reply_markup is None:
        await message.answer(
            ui.text("vote_ballot", view=result), reply_markup=_ballot_keyboard(ui, result)
        )
    else:
        await message.edit_text(
            ui.text("vote_ballot", view=result), reply_markup=_ballot_keyboard(ui, result)
        )


async def on_other_text(
    message: Message, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    data = await state.get_data()
    text = (message.text or "").strip()
    if text.startswith("/") or not text:
        await state.clear()
        await message.answer(ui.text("wizard_cancelled"))
        return
    other = text  # the service refuses one over its limit; nothing is cut
    await state.update_data(other_text=other)
    ballot_id, index = int(data.get("ballot_id", 0)), int(data.get("index", 0))
    result = await svc.preview(
        services, actor, ballot_id=ballot_id, choice=Choice((index,), other_text=other)
    )
    if isinstance(result, Rejected):
        await message.answer(ui.refusal(result))
        return
    await message.answer(
        ui.text("vote_confirm", view=result), reply_markup=_confirm_keyboard(ui, result)
    )


def _ballot_over(refused: Rejected) -> bool:
    """A refusal because the ballot can no longer be voted on (closed, cancelled)."""
    return refused.reason is Reason.CAST and refused.detail.get("why") in {
        CastRejection.CLOSED.value,
        CastRejection.CANCELLED.value,
    }


def _choice(index: int, other: str) -> Choice | None:
    if index == DRAFT:
        return None
    if index == BLANK:
        return Choice(blank=True)
    return Choice((index,), other_text=other)


async def _reply_in_place(
    query: CallbackQuery,
    message: Message | None,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit the tapped message; when it is gone or cannot be edited, send the text anew."""
    if message is not None:
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramAPIError:
            log.info("confirm message not editable: the reply is sent as a new message")
    if query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)


def _after_cast_keyboard(ui: Ui, view: svc.VoteView) -> InlineKeyboardMarkup | None:
    if not view.info.ballot.rules.secret:
        return None
    return keyboard([[(ui.t("button.check_receipt"), VoteCb(b=0, a="check"))]])


def _ballot_keyboard(ui: Ui, view: svc.VoteView) -> InlineKeyboardMarkup:
    b = view.info.ballot
    if b.rules.secret and view.voted:
        # Cast and locked: nothing to choose; the receipt can be checked.
        return keyboard([[(ui.t("button.check_receipt"), VoteCb(b=0, a="check"))]])
    multi = b.rules.max_choices > 1
    rows: list[list[tuple[str, CallbackData | str]]] = []
    for option in b.options:
        if not b.rules.self_vote and option.unit_id == view.unit.id:
            continue  # not a candidate for this unit: not offered (refused if forged)
        label = ui.label(
            "vote_option_label",
            option=_label(option, view),
            chosen=(multi and option.index in view.selection),
        )
        rows.append([(label, VoteCb(b=b.id, a="tog" if multi else "pick", i=option.index))])
    rows.append([(ui.t("button.blank"), VoteCb(b=b.id, a="blank", i=BLANK))])
    if multi:
        rows.append(
            [
                (
                    ui.label(
                        "vote_review_button", count=len(view.selection), max=b.rules.max_choices
                    ),
                    VoteCb(b=b.id, a="review", i=DRAFT),
                )
            ]
        )
    return keyboard(rows)


def _confirm_keyboard(ui: Ui, view: svc.VoteView) -> InlineKeyboardMarkup:
    b = view.info.ballot
    pending = view.pending or Choice()
    if pending.blank:
        index = BLANK
    elif b.rules.max_choices > 1:
        index = DRAFT
    else:
        index = pending.options[0] if pending.options else BLANK
    return keyboard(
        [
            [(ui.t("button.confirm_vote"), VoteCb(b=b.id, a="ok", i=index, v=view.version))],
            [(ui.t("button.rechoose"), VoteCb(b=b.id, a="back"))],
        ]
    )


def _label(option: Option, view: svc.VoteView) -> dict[str, object]:
    return {
        "index": option.index,
        "kind": option.kind.value,
        "unit": view.names.get(option.unit_id, "") if option.unit_id else "",
        "label": option.label,
    }
