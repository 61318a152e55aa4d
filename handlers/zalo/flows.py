"""The representative's flows on Zalo, by text: numbered menus instead of buttons, onto the
same services as Telegram (voting with its confirm step and Phiếu trắng, secret-ballot
receipts, self-scoring, the covenant, check-in, linking accounts, moving to another unit).

Each flow shows a menu and records in the conversation what the next message may answer;
a command typed instead ends the menu. Nothing secret is kept there: a secret ballot's
choice awaiting confirmation is sealed (`voting.hold_choice`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.core.models import Locale
from bot.core.voting import Choice, OptionKind
from bot.services import covenant as covenants
from bot.services import deadlines, reports
from bot.services import voting as svc
from bot.services.actors import Actor, set_locale
from bot.services.app import Services
from bot.services.blocs import my_blocs, use_bloc
from bot.services.invites import confirm_move
from bot.services.linking import issue_link_code, link, offer_link
from bot.services.outcomes import Reason, Rejected
from handlers.texts import (
    Ui,
    cast_text,
    join_text,
    link_code_text,
    link_offer_text,
    linked_text,
)
from handlers.zalo.commands import (
    folded,
    is_blank,
    is_confirm,
    is_no,
    is_yes,
    parse_numbers,
)
from handlers.zalo.conversation import Conversation

SUMMARY_FORMS = ("items", "codes", "groups", "totals")


@dataclass
class Chat:
    """One message being answered: who sent it, in which language, and how to reply."""

    services: Services
    actor: Actor
    ui: Ui
    conv: Conversation
    say: Callable[[str], Awaitable[None]]

    async def refuse(self, rejected: Rejected) -> None:
        await self.say(self.ui.refusal(rejected))


# --- voting ----------------------------------------------------------------------------------


async def vote(chat: Chat, rest: str) -> None:
    """`bo phieu` (the list), `bo phieu 3` (ballot 3), `bo phieu 3 2` (choice 2 of ballot 3,
    then the confirm step), `bo phieu 3 trang`, `bo phieu 3 1,4`, `bo phieu kiem tra MÃ`."""
    words = rest.split()
    if words and folded(words[0]) in {"check", "kiem", "kiemtra"}:
        typed = " ".join(words[1:])
        if folded(typed).startswith("tra "):
            typed = typed[4:]
        await check(chat, typed)
        return
    if not words:
        await vote_list(chat)
        return
    ballot_id = await svc.ballot_by_number(chat.services, chat.actor, words[0].lstrip("#"))
    if isinstance(ballot_id, Rejected):
        await chat.refuse(ballot_id)
        return
    if len(words) == 1:
        await show_ballot(chat, ballot_id)
    else:
        await choose(chat, ballot_id, " ".join(words[1:]))


async def vote_list(chat: Chat) -> None:
    views = await svc.open_ballots_for(chat.services, chat.actor)
    if isinstance(views, Rejected):
        await chat.conv.clear()
        await chat.refuse(views)
        return
    check_too = await svc.has_secret_ballots(chat.services, chat.actor)
    if not views:
        await chat.conv.clear()
        await chat.say(chat.ui.text("vote_none", check=check_too))
        return
    await chat.conv.set("ballots", numbers=[v.number for v in views])
    await chat.say(chat.ui.text("vote_list", views=views, check=check_too))


async def show_ballot(chat: Chat, ballot_id: int) -> None:
    view = await svc.vote_view(chat.services, chat.actor, ballot_id=ballot_id)
    if isinstance(view, Rejected):
        await chat.conv.clear()
        await chat.refuse(view)
        return
    if view.voted and view.info.ballot.rules.secret:
        await chat.conv.clear()  # cast and sealed: nothing left to choose
    else:
        await chat.conv.set("ballot", ballot=ballot_id)
    await chat.say(chat.ui.text("vote_ballot", view=view))


async def typed_choice(chat: Chat, ballot_id: int, typed: str) -> Choice | None:
    """ "2", "1, 3", "0"/"trắng", or a candidate unit's short name or name."""
    if is_blank(typed):
        return Choice(blank=True)
    numbers = parse_numbers(typed)
    if numbers:
        return Choice(tuple(dict.fromkeys(n - 1 for n in numbers)))
    index = await svc.option_named(chat.services, ballot_id=ballot_id, typed=typed)
    return None if index is None else Choice((index,))


async def choose(chat: Chat, ballot_id: int, typed: str) -> None:
    """A typed choice: "2", "1, 3", "0"/"trắng", a unit's name; then the confirm step (or,
    for "ý kiến khác", the opinion's text first)."""
    view = await svc.vote_view(chat.services, chat.actor, ballot_id=ballot_id)
    if isinstance(view, Rejected):
        await chat.conv.clear()
        await chat.refuse(view)
        return
    choice = await typed_choice(chat, ballot_id, typed)
    if choice is None:
        await chat.conv.set("ballot", ballot=ballot_id)
        numbers = [
            str(o.index + 1)
            for o in view.info.ballot.options
            if view.info.ballot.rules.self_vote or o.unit_id != view.unit.id
        ]
        await chat.say(chat.ui.text("zalo_pick_number", typed=typed, choices=[*numbers, "0"]))
        return
    if len(choice.options) == 1:
        option = view.info.ballot.option(choice.options[0])
        if option is not None and option.kind is OptionKind.OTHER:
            await chat.conv.set("other", ballot=ballot_id, index=option.index, number=view.number)
            await chat.say(chat.ui.text("vote_other_ask"))
            return
    await confirm_step(chat, ballot_id, choice, typed=_wrong(view, choice, typed))


def _wrong(view: svc.VoteView, choice: Choice, typed: str) -> str:
    """What a refusal names: the typed numbers that are no candidate or the unit's own, or the
    typed name."""
    if parse_numbers(typed) is None:
        return typed.strip()
    ballot = view.info.ballot
    return ", ".join(
        str(i + 1)
        for i in choice.options
        if (o := ballot.option(i)) is None
        or (not ballot.rules.self_vote and o.unit_id == view.unit.id)
    )


async def confirm_step(chat: Chat, ballot_id: int, choice: Choice, *, typed: str = "") -> None:
    shown = await svc.preview(chat.services, chat.actor, ballot_id=ballot_id, choice=choice)
    if isinstance(shown, Rejected):
        # A refused choice (closed, own unit, too many…): said, and the ballot stays open to
        # another answer while it can still be voted on.
        if shown.reason is Reason.CAST and shown.detail.get("why") in {
            "too_many_choices",
            "not_a_candidate",
            "self_vote",
            "empty_choice",
        }:
            await chat.conv.set("ballot", ballot=ballot_id)
            if typed and shown.detail.get("why") in {"not_a_candidate", "self_vote"}:
                shown = Rejected(shown.reason, {**shown.detail, "typed": typed})
        elif shown.reason is Reason.TOO_LONG:  # the other opinion: typed again, shorter
            state, _expired = await chat.conv.get()
            await chat.conv.set(
                "other", ballot=ballot_id, index=choice.options[0], number=state.get("number")
            )
        else:
            await chat.conv.clear()
        await chat.refuse(shown)
        return
    held = await svc.hold_choice(chat.services, chat.actor, ballot_id=ballot_id, choice=choice)
    if isinstance(held, Rejected):
        await chat.conv.clear()
        await chat.refuse(held)
        return
    await chat.conv.set("confirm", ballot=ballot_id, held=held, number=shown.number)
    await chat.say(chat.ui.text("vote_confirm", view=shown))


async def cast(chat: Chat, ballot_id: int, held: str) -> None:
    await chat.conv.clear()
    choice = await svc.held_choice(chat.services, chat.actor, ballot_id=ballot_id, token=held)
    if isinstance(choice, Rejected):
        await chat.refuse(choice)
        return
    done = await svc.cast_vote(chat.services, chat.actor, ballot_id=ballot_id, choice=choice)
    if isinstance(done, Rejected):
        await chat.refuse(done)
        return
    # A secret ballot's receipt is in this reply only: it is never stored.
    await chat.say(cast_text(chat.ui, done))


async def check(chat: Chat, typed: str) -> None:
    """`kiem tra MÃ`: was the secret ballot with this receipt counted? Without a code, the
    next message is read as one (the code is never kept in the conversation)."""
    if chat.actor.current_bloc_id is None:
        await chat.refuse(
            Rejected(Reason.NO_BLOC if chat.actor.memberships else Reason.NOT_MEMBER)
        )
        return
    if not typed.strip():
        await chat.conv.set("receipt")
        await chat.say(chat.ui.text("receipt_ask"))
        return
    await chat.conv.clear()
    out = await svc.check_receipt(chat.services, chat.actor, typed=typed)
    if isinstance(out, Rejected):
        await chat.refuse(out)
        return
    await chat.say(
        chat.ui.text(
            "receipt_result",
            receipt=out.receipt,
            bloc=out.bloc,
            found=out.found,
            ballot=out.ballot,
            choice=out.choice,
        )
    )


# --- self-scoring ----------------------------------------------------------------------------


async def score(chat: Chat, period_id: int | None = None) -> None:
    """`cham diem`: the unit's self-scores item by item (the file comes another way)."""
    step = await reports.start_report(chat.services, chat.actor, period_id=period_id)
    if isinstance(step, reports.AskFile):
        await show_score_step(
            chat,
            await reports.show_step(
                chat.services, chat.actor, draft_id=step.ctx.draft.id, file_later=True
            ),
        )
        return
    await show_score_step(chat, step)


async def show_score_step(
    chat: Chat,
    step: reports.ChoosePeriod | reports.Step | reports.WalkClosed | reports.Receipt | Rejected,
) -> None:
    ui = chat.ui
    if isinstance(step, Rejected):
        await chat.conv.clear()
        await chat.refuse(step)
    elif isinstance(step, reports.WalkClosed):
        await chat.conv.clear()
        await chat.refuse(step.rejected)
    elif isinstance(step, reports.ChoosePeriod):
        await chat.conv.set("period", periods=[v.period.id for v in step.periods])
        await chat.say(ui.text("report_choose_period", choose=step))
    elif isinstance(step, reports.AskFile):  # not reached with file_later; kept for safety
        await chat.conv.clear()
        await chat.say(ui.text("zalo_report_elsewhere", web=chat.services.web_url is not None))
    elif isinstance(step, reports.AskItem):
        await chat.conv.set("score", draft=step.ctx.draft.id, index=step.index)
        await chat.say(
            ui.text(
                "report_ask_item",
                step=step,
                item=step.item,
                total=len(step.ctx.table.items),
                current=step.ctx.draft.values.get(step.item.code),
                self_value=step.ctx.self_values.get(step.item.code),
                review=False,
                problem=step.problem.value if step.problem else None,
            )
        )
    elif isinstance(step, reports.Summary):
        await chat.conv.set("summary", draft=step.ctx.draft.id, index=len(step.ctx.table.items))
        await chat.say(
            ui.fitting(
                "report_summary",
                SUMMARY_FORMS,
                ctx=step.ctx,
                totals=step.totals,
                groups=step.groups,
                review=False,
            )
        )
    else:  # a receipt
        await chat.conv.clear()
        await chat.say(
            ui.text(
                "report_receipt",
                ctx=step.ctx,
                submission=step.submission,
                totals=step.totals,
                tz=step.ctx.bloc.timezone,
            )
        )


async def score_answer(chat: Chat, state: dict[str, Any], text: str) -> None:
    draft_id, index = int(state["draft"]), int(state["index"])
    if is_no(text) and folded(text) in {"lai", "quay lai", "back"}:
        back = await reports.go_back(chat.services, chat.actor, draft_id=draft_id, index=index)
        await show_score_step(chat, back)
        return
    step = await reports.answer(
        chat.services, chat.actor, draft_id=draft_id, index=index, text=text, file_later=True
    )
    await show_score_step(chat, step)


async def summary_answer(chat: Chat, state: dict[str, Any], text: str) -> bool:
    draft_id, index = int(state["draft"]), int(state["index"])
    if folded(text) in {"lai", "quay lai", "back"}:
        back = await reports.go_back(chat.services, chat.actor, draft_id=draft_id, index=index)
        await show_score_step(chat, back)
        return True
    if is_yes(text):
        done = await reports.confirm(chat.services, chat.actor, draft_id=draft_id)
        if isinstance(done, reports.Reviewed):  # never on Zalo: reviews are the secretariat's
            await chat.conv.clear()
            return True
        await show_score_step(chat, done)
        return True
    return False


# --- the covenant ----------------------------------------------------------------------------


async def covenant(chat: Chat, rest: str) -> None:
    view = await covenants.covenant_view(chat.services, chat.actor)
    if isinstance(view, Rejected):
        await chat.conv.clear()
        await chat.refuse(view)
        return
    text = chat.ui.text("covenant_view", view=view)
    if view.covenant is None or view.unit is None or view.mine is not None:
        await chat.conv.clear()
        await chat.say(text)
        return
    await chat.conv.set("covenant", covenant=view.covenant.id, hash=view.hash)
    await chat.say(text)
    if folded(rest) in {"ky", "sign"}:
        await covenant_answer(chat, {"covenant": view.covenant.id, "hash": view.hash}, "ky")


async def covenant_answer(chat: Chat, state: dict[str, Any], text: str) -> bool:
    if not is_yes(text):
        return False
    await chat.conv.set("covenant_ok", covenant=state["covenant"], hash=state["hash"])
    await chat.say(chat.ui.text("covenant_confirm"))
    return True


async def covenant_sign(chat: Chat, state: dict[str, Any], text: str) -> bool:
    if is_no(text):
        await chat.conv.clear()
        await chat.say(chat.ui.text("covenant_not_signed"))
        return True
    if not is_yes(text):
        return False
    await chat.conv.clear()
    done = await covenants.sign(
        chat.services,
        chat.actor,
        covenant_id=int(state["covenant"]),
        seen_hash=str(state["hash"]),
    )
    await chat.say(
        chat.ui.refusal(done)
        if isinstance(done, Rejected)
        else chat.ui.text("covenant_signed", done=done)
    )
    return True


# --- custom deadlines: «Đã nhận» ------------------------------------------------------------


async def ack(chat: Chat, rest: str) -> None:
    """`da nhan`: the unit acknowledges the secretariat's deadline (the one waiting, or the
    one named by its number in `han chot`; several waiting: a numbered menu)."""
    view = await deadlines.deadlines_view(chat.services, chat.actor)
    if isinstance(view, Rejected):
        await chat.refuse(view)
        return
    waiting = {
        line.number: int(line.action.callback_data.split(":")[1])
        for line in view.lines
        if line.kind == "custom"
        and line.acted is False
        and line.action is not None
        and line.action.callback_data
    }
    numbers = parse_numbers(rest)
    if numbers and len(numbers) == 1 and numbers[0] in waiting:
        await acknowledge(chat, waiting[numbers[0]])
    elif len(waiting) == 1 and not rest.strip():
        await acknowledge(chat, next(iter(waiting.values())))
    elif not waiting:
        await chat.conv.clear()
        await chat.say(chat.ui.text("zalo_nothing_to_ack"))
    else:
        await chat.conv.set("ack", deadlines={str(n): d for n, d in waiting.items()})
        await chat.say(chat.ui.text("zalo_pick_ack", view=view, numbers=sorted(waiting)))


async def acknowledge(chat: Chat, deadline_id: int) -> None:
    await chat.conv.clear()
    done = await deadlines.acknowledge(chat.services, chat.actor, deadline_id=deadline_id)
    await chat.say(
        chat.ui.refusal(done)
        if isinstance(done, Rejected)
        else chat.ui.text("deadline_acknowledged", ack=done)
    )


# --- the rest --------------------------------------------------------------------------------


async def choose_bloc(chat: Chat, rest: str) -> None:
    """`khoi`: the person's blocs; `khoi MÃ`: work in that one (a member of several)."""
    if rest.strip():
        chosen = await use_bloc(chat.services, chat.actor, rest)
        await chat.say(
            chat.ui.refusal(chosen)
            if isinstance(chosen, Rejected)
            else chat.ui.text("bloc_chosen", bloc=chosen.name, code=chosen.code)
        )
        return
    blocs = await my_blocs(chat.services, chat.actor)
    await chat.say(chat.ui.text("bloc_pick", blocs=[(b.name, b.code) for b in blocs]))


async def checkin(chat: Chat, code: str = "") -> None:
    """`diem danh` (with the hall screen's code where check-in is at the venue)."""
    done = await svc.check_in(chat.services, chat.actor, code)
    await chat.say(
        chat.ui.refusal(done)
        if isinstance(done, Rejected)
        else chat.ui.text("checked_in", done=done)
    )


async def link_command(chat: Chat, rest: str) -> None:
    """`lien ket`: a code to send from Telegram; `lien ket MÃ`: the code Telegram gave —
    what linking would do, then 1 to agree."""
    await chat.conv.clear()
    if not rest.strip():
        code = await issue_link_code(chat.services, chat.actor)
        await chat.say(link_code_text(chat.ui, code))
        return
    offer = await offer_link(chat.services, chat.actor, rest)
    if not isinstance(offer, Rejected):
        await chat.conv.set("link", code=offer.code_id)
    await chat.say(link_offer_text(chat.ui, offer))


async def move_answer(chat: Chat, text: str) -> bool:
    """An invite of another unit of the bloc: «1» moves there, «2» stays (the invite waits on
    the server, as Telegram's buttons answer it)."""
    if not (is_yes(text) or is_no(text)):
        return False
    await chat.conv.clear()
    outcome = await confirm_move(chat.services, chat.actor, accept=is_yes(text))
    if isinstance(outcome, Rejected) and outcome.detail.get("cancelled"):
        await chat.say(chat.ui.text("join_move_cancelled"))
    else:
        await chat.say(join_text(chat.ui, outcome))
    return True


async def link_answer(chat: Chat, state: dict[str, Any], text: str) -> bool:
    if is_no(text):
        await chat.conv.clear()
        await chat.say(chat.ui.text("link_cancelled"))
        return True
    if not is_yes(text):
        return False
    await chat.conv.clear()
    done = await link(chat.services, chat.actor, int(state["code"]))
    await chat.say(linked_text(chat.ui, done))
    return True


async def lang(chat: Chat, rest: str) -> None:
    word = folded(rest)
    locale = (
        Locale.EN
        if word in {"en", "english", "tieng anh"}
        else Locale.VI
        if word in {"vi", "tieng viet", "vietnamese"}
        else None
    )
    if locale is None:
        await chat.say(chat.ui.text("zalo_lang"))
        return
    await set_locale(chat.services, chat.actor, locale)
    await chat.say(replace(chat.ui, locale=locale).text("lang_set"))


# --- answers to the menu last shown -----------------------------------------------------------


async def answer(chat: Chat, state: dict[str, Any], text: str) -> bool:
    """The message read as the answer to the menu in `state`; False when it is not one
    (then it is read as a command, or the menu is shown again)."""
    menu = state.get("menu")
    if menu == "ballots":
        numbers = parse_numbers(text)
        if numbers and len(numbers) == 1 and numbers[0] in state.get("numbers", []):
            ballot_id = await svc.ballot_by_number(chat.services, chat.actor, str(numbers[0]))
            if isinstance(ballot_id, Rejected):
                await chat.refuse(ballot_id)
            else:
                await show_ballot(chat, ballot_id)
            return True
        if numbers:
            await chat.say(
                chat.ui.text(
                    "zalo_pick_number", typed=text, choices=[str(n) for n in state["numbers"]]
                )
            )
            return True
        return False
    if menu == "ballot":
        if await typed_choice(chat, int(state["ballot"]), text) is None:
            return False
        await choose(chat, int(state["ballot"]), text)
        return True
    if menu == "other":
        other = text.strip()  # the service refuses one over its limit; nothing is cut
        choice = Choice((int(state["index"]),), other_text=other)
        await confirm_step(chat, int(state["ballot"]), choice)
        return True
    if menu == "confirm":
        # Only a word confirms: a number (or a name) is another choice, confirmed in turn.
        if is_confirm(text):
            await cast(chat, int(state["ballot"]), str(state["held"]))
            return True
        if is_no(text) and parse_numbers(text) is None:  # «chọn lại», «không»
            await show_ballot(chat, int(state["ballot"]))
            return True
        if await typed_choice(chat, int(state["ballot"]), text) is not None:
            await choose(chat, int(state["ballot"]), text)
            return True
        return False
    if menu == "receipt":
        await check(chat, text)
        return True
    if menu == "period":
        numbers = parse_numbers(text)
        periods = [int(p) for p in state.get("periods", [])]
        if numbers and len(numbers) == 1 and 1 <= numbers[0] <= len(periods):
            await score(chat, periods[numbers[0] - 1])
            return True
        return False
    if menu == "score":  # any text: the walk says what is wrong with a bad value
        await score_answer(chat, state, text)
        return True
    if menu == "summary":
        return await summary_answer(chat, state, text)
    if menu == "link":
        return await link_answer(chat, state, text)
    if menu == "ack":
        numbers = parse_numbers(text)
        waiting = {int(n): int(d) for n, d in state.get("deadlines", {}).items()}
        if numbers and len(numbers) == 1 and numbers[0] in waiting:
            await acknowledge(chat, waiting[numbers[0]])
            return True
        return False
    if menu == "covenant":
        return await covenant_answer(chat, state, text)
    if menu == "move":
        return await move_answer(chat, text)
    if menu == "covenant_ok":
        return await covenant_sign(chat, state, text)
    return False


FREE_TEXT = frozenset({"other", "receipt"})  # menus whose answer is any text
PENDING_VOTE = frozenset({"other", "confirm"})  # menus holding a vote not cast yet


def not_cast(ui: Ui, state: dict[str, Any]) -> str | None:
    """What to say when a waiting vote is dropped (another command, an expired menu)."""
    if state.get("menu") not in PENDING_VOTE:
        return None
    return ui.text("vote_not_cast", number=state.get("number"))
