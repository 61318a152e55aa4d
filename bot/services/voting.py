"""The conference and its votes: check-in, ballots, casting, turnout, closing, run-offs.

Every ballot is counted by the bloc's rules (bot.core.voting) in exact integer arithmetic.
An open ballot (biểu quyết) keeps one row per unit with its choice, re-cast until the close,
the last choice counts. A secret ballot (bỏ phiếu kín) is locked by its first cast and sealed
(bot.services.secret_ballots): the database keeps who voted apart from a sealed choice.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.levels import default_tiers
from bot.core.models import Bloc, Locale, Role, Unit
from bot.core.sealing import BallotKeys, SealError, open_pending, seal_pending
from bot.core.text import bare_name, clean, fold_diacritics, list_items, nfc, person_and_title
from bot.core.units import find_unit, rotation_proposal
from bot.core.venue import venue_checkin_on, venue_code_ok, venue_key
from bot.core.voting import (
    BallotKind,
    BallotStatus,
    CastRejection,
    Choice,
    Option,
    OptionKind,
    TallyResult,
    break_tie_by_score,
    check_cast,
    default_rules,
    exclude_higher_tiers,
    missing_for_quorum,
    quorum_met,
    reachable,
    runoff_rules,
    same_choice,
    tally,
)
from bot.render import Renderer, format_dt
from bot.services import secret_ballots as sealed
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import record
from bot.services.documents import RecordRow, VoteRecord, date_line, vote_record_docx
from bot.services.invites import guess_budget
from bot.services.live import tell_screens
from bot.services.notify import queue_notices
from bot.services.outbox import to_group
from bot.services.outcomes import Notice, Reason, Rejected, pick_unit, refuse_long
from bot.services.reports import local_to_utc
from storage.uow import UnitOfWork
from storage.vote_repos import BallotInfo, Conference

# --- the conference ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BallotLine:
    info: BallotInfo
    number: int
    cast: int
    reachable: bool = True
    # Counted, still tied after the run-off and the score totals: the units the secretariat
    # decides between (`decide`).
    awaiting: tuple[Unit, ...] = ()


@dataclass(frozen=True, slots=True)
class ConferenceView:
    bloc: Bloc
    conference: Conference
    chair_unit: Unit | None
    present: tuple[Unit, ...]
    absent: tuple[Unit, ...]
    quorum_met: bool
    missing: int
    ballots: tuple[BallotLine, ...] = ()

    @property
    def units(self) -> int:
        return len(self.present) + len(self.absent)

    @property
    def venue_checkin(self) -> bool:
        """Check-in needs the code shown on the hall screen."""
        c = self.conference
        return venue_checkin_on(c.venue_checkin, c.place)

    @property
    def date_line(self) -> str:
        """The minutes' place-and-date line, echoed so a wrong locality shows at once."""
        c = self.conference
        return date_line(c.locality, c.held_at, self.bloc.timezone)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Each ballot as the templates describe it, with its state and turnout."""
        names = {u.id: u.name for u in (*self.present, *self.absent)}
        return [
            {
                **_ballot_context(line.info, line.number, names, self.bloc),
                "status": line.info.ballot.status.value,
                "cast": line.cast,
                "reachable": line.reachable,
                "awaiting": line.awaiting,
            }
            for line in self.ballots
        ]


# The fields of /conference new, in the order the one-line form takes them (names and
# questions in strings.toml [conference_field] / [conference_hint]); from the chairing unit on
# a field may stay empty ("-" in the walk). The chair and the memo's signer are persons:
# «name, title» (split at the first comma); an empty signer is the chair.
CONFERENCE_FIELDS = (
    "time",
    "place",
    "chair_unit",
    "chair",
    "secretary",
    "counting_board",
    "guests",
    "locality",
    "signer",
    "deputy",
    "delegations",
)
# The one-line form takes the first eight (a «;» typed inside the guests makes one too many
# and is refused, never shifted into the next field); the walk and the console take all.
ONE_LINE_FIELDS = CONFERENCE_FIELDS[:8]
REQUIRED_FIELDS = 2
SKIP = "-"
_FIELD_LIMITS = {
    "place": "conference_place",
    "chair": "conference_chair",
    "chair_title": "person_title",
    "secretary": "conference_secretary",
    "counting_board": "counting_board",
    "guests": "guests",
    "locality": "locality",
    "signer": "conference_chair",
    "signer_title": "person_title",
    "deputy": "conference_chair",
    "deputy_title": "person_title",
    "delegations": "delegations",
}
_PERSONS = {"chair": "chair_title", "signer": "signer_title", "deputy": "deputy_title"}


@dataclass(frozen=True, slots=True)
class ConferenceInput:
    """The conference as typed, field by field (the console's form; the chat's one-line form
    and walk through `conference_input`). Lists (board, guests, delegations) as typed: one
    item a line or between separators. `ended`: the end time as typed ("" clears it; None
    leaves it as it is)."""

    time: str
    place: str
    chair_unit: str = ""
    chair: str = ""
    chair_title: str = ""
    secretary: str = ""
    counting_board: str = ""
    guests: str = ""
    locality: str = ""
    signer: str = ""
    signer_title: str = ""
    deputy: str = ""
    deputy_title: str = ""
    delegations: str = ""
    ended: str | None = None


def conference_input(fields: list[str]) -> ConferenceInput:
    """The chat's fields, in CONFERENCE_FIELDS order, as the form's (persons split)."""
    typed = dict(zip(CONFERENCE_FIELDS, [*fields, *[""] * len(CONFERENCE_FIELDS)], strict=False))
    persons: dict[str, str] = {}
    for name, title in _PERSONS.items():
        persons[name], persons[title] = person_and_title(typed.pop(name))
    return ConferenceInput(**typed, **persons)


def split_conference_fields(text: str) -> list[str] | Rejected:
    """The one-line form: fields separated by «;». A count the command does not take (a «;»
    inside a list of guests makes one too many) is refused naming each field as read —
    never shifted into the next field."""
    fields = [clean(part) for part in text.split(";")]
    if not REQUIRED_FIELDS <= len(fields) <= len(ONE_LINE_FIELDS):
        return Rejected(
            Reason.BAD_FIELD_COUNT,
            {"count": len(fields), "typed": fields, "fields": list(ONE_LINE_FIELDS)},
        )
    return fields


def _field_problem(name: str, text: str, bloc: Bloc, units: list[Unit]) -> Rejected | None:
    """What is wrong with one field of the conference, as typed (None: nothing)."""
    if name == "time" and local_to_utc(text, bloc.timezone) is None:
        return Rejected(Reason.BAD_DATE, {"value": text})
    if name == "place" and not text:
        return Rejected(Reason.NAME_MISSING, {"field": "conference_place"})
    if name == "chair_unit" and text and isinstance(found := pick_unit(units, text), Rejected):
        return found
    if name in _PERSONS:
        person, title = person_and_title(text)
        return refuse_long(_FIELD_LIMITS[name], person) or refuse_long("person_title", title)
    return refuse_long(_FIELD_LIMITS[name], text) if name in _FIELD_LIMITS else None


def _list_text(text: str) -> str:
    """A typed list as stored: its items between «; » (the form's lines, the walk's lines)."""
    return "; ".join(list_items(text))


async def check_conference_field(
    services: Services, actor: Actor, *, index: int, text: str
) -> str | Rejected:
    """One step of the /conference new walk: the answer for field `index`, checked as the
    one-line form checks it; «-» leaves a field after the place empty. A list may take one
    item a line here."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    name = CONFERENCE_FIELDS[index]
    value = _list_text(text) if name in {"guests", "delegations"} else clean(text)
    if value == SKIP:
        if index >= REQUIRED_FIELDS:
            return ""
        value = ""  # the time and the place cannot be skipped
    async with services.db.uow(read_only=True) as uow:
        bloc = await uow.blocs.require(bloc_id)
        units = await uow.blocs.units(bloc_id)
    problem = _field_problem(name, value, bloc, list(units))
    return problem if problem is not None else value


def _ended_at(text: str, held_at: datetime, tz: str) -> datetime | Rejected | None:
    """The end as typed: «11:30» on the conference's day, or a whole date and time; after the
    start. Empty: none entered (the minutes take the last event of the day)."""
    if not text:
        return None
    local_day = held_at.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y")
    when = local_to_utc(text if "/" in text else f"{local_day} {text}", tz)
    if when is None:
        return Rejected(Reason.BAD_DATE, {"value": text})
    if when <= held_at:
        return Rejected(Reason.END_BEFORE_START, {"value": text})
    return when


async def setup_conference(
    services: Services, actor: Actor, fields: list[str]
) -> ConferenceView | Rejected:
    """/conference new: time; place; chairing unit; chair (name, title); secretary; counting
    board; guests; locality (the place name of the minutes' date line); the memo's signer
    (name, title); delegations."""
    if len(fields) > len(CONFERENCE_FIELDS):
        if isinstance(bloc_id := secretariat_bloc(actor), Rejected):
            return bloc_id
        return Rejected(
            Reason.BAD_FIELD_COUNT,
            {"count": len(fields), "typed": fields, "fields": list(CONFERENCE_FIELDS)},
        )
    return await save_conference(services, actor, conference_input(fields))


async def save_conference(
    services: Services, actor: Actor, typed: ConferenceInput
) -> ConferenceView | Rejected:
    """The conference set up or corrected (chat and console): every field checked, nothing
    saved on a refusal; check-ins, ballots, paragraphs and what the hall saw stay with it."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    lists = {"guests", "delegations"}
    text = {
        name: _list_text(value) if name in lists else clean(value)
        for name in ConferenceInput.__dataclass_fields__
        if name != "ended" and isinstance(value := getattr(typed, name), str)
    }
    # The board: names between commas (the chat) or one a line (the console).
    board = tuple(
        name for part in re.split(r"[,\n]", nfc(typed.counting_board)) if (name := clean(part))
    )
    text["counting_board"] = ", ".join(board)
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        units = await uow.blocs.units(bloc_id)
        for name, value in text.items():
            problem = _field_problem(name, value, bloc, list(units))
            if problem is not None:
                return problem
        held_at = local_to_utc(text["time"], bloc.timezone)
        assert held_at is not None  # checked above
        chair_unit = pick_unit(units, text["chair_unit"]) if text["chair_unit"] else None
        assert not isinstance(chair_unit, Rejected)  # checked above
        existing = await uow.votes.conference(bloc_id, bloc.year)
        if typed.ended is None:
            ended_at = existing.ended_at if existing else None
        else:
            found = _ended_at(clean(typed.ended), held_at, bloc.timezone)
            if isinstance(found, Rejected):
                return found
            ended_at = found
        if ended_at is not None and ended_at <= held_at:
            ended_at = None  # the start moved past an end entered before: enter it again
        fresh = Conference(
            id=existing.id if existing else 0,
            bloc_id=bloc_id,
            year=bloc.year,
            held_at=held_at,
            place=text["place"],
            chair_unit_id=chair_unit.id if chair_unit else None,
            chair=text["chair"],
            chair_title=text["chair_title"],
            secretary=text["secretary"],
            counting_board=board,
            guests=text["guests"],
            locality=text["locality"],
            signer=text["signer"],
            signer_title=text["signer_title"],
            deputy=text["deputy"],
            deputy_title=text["deputy_title"],
            delegations=text["delegations"],
            ended_at=ended_at,
        )
        if existing is not None:
            conference = await uow.votes.update_conference(
                replace(existing, **{f: getattr(fresh, f) for f in (*_FORM_COLUMNS, "ended_at")})
            )
        else:
            conference = await uow.votes.add_conference(
                fresh, created_by=actor.identity.id, now=services.clock.now()
            )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="conference.updated" if existing else "conference.set_up",
            conference=conference.id,
            held_at=held_at.isoformat(),
            place=conference.place,
        )
        view = await _conference_view(uow, bloc, conference)
        await uow.commit()
    return view


# What the conference form sets (the rest — the summary's paragraphs, the venue setting, what
# the hall saw — has its own commands and stays as it is when the form is saved again).
_FORM_COLUMNS = (
    "held_at",
    "place",
    "chair_unit_id",
    "chair",
    "chair_title",
    "secretary",
    "counting_board",
    "guests",
    "locality",
    "signer",
    "signer_title",
    "deputy",
    "deputy_title",
    "delegations",
)


async def set_conference_end(
    services: Services, actor: Actor, text: str
) -> ConferenceView | Rejected:
    """/conference end 11:30: the time the meeting ended, for the minutes (a whole date and
    time also do; «-» clears it: the minutes then take the last event of the day)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        existing = await uow.votes.conference(bloc_id, bloc.year)
        if existing is None:
            return Rejected(Reason.NO_CONFERENCE)
        typed = clean(text)
        found = _ended_at("" if typed == SKIP else typed, existing.held_at, bloc.timezone)
        if isinstance(found, Rejected):
            return found
        conference = await uow.votes.update_conference(replace(existing, ended_at=found))
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="conference.ended",
            conference=conference.id,
            ended_at=found.isoformat() if found else "",
        )
        view = await _conference_view(uow, bloc, conference)
        await uow.commit()
    return view


async def conference_view(services: Services, actor: Actor) -> ConferenceView | Rejected:
    bloc_id = actor.current_bloc_id
    if bloc_id is None or actor.membership(bloc_id) is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        return await _conference_view(uow, bloc, conference)


async def _conference_view(uow: UnitOfWork, bloc: Bloc, conference: Conference) -> ConferenceView:
    units = await uow.blocs.units(bloc.id)
    present_ids = await uow.votes.present(conference.id)
    present = tuple(u for u in units if u.id in present_ids)
    absent = tuple(u for u in units if u.id not in present_ids)
    rules = default_rules(BallotKind.APPROVE_REPORT)
    lines = []
    for number, info in enumerate(await uow.votes.ballots(bloc.id, conference.id), start=1):
        awaiting: tuple[Unit, ...] = ()
        if info.ballot.status is BallotStatus.CLOSED:
            stored = await uow.votes.result(info.ballot.id)
            if stored is not None and stored[2] == "pending":
                tied = {int(u) for u in stored[0].get("awaiting", [])}
                awaiting = tuple(u for u in units if u.id in tied)
        lines.append(
            BallotLine(
                info,
                number,
                await uow.votes.cast_count(info.ballot.id),
                reachable(info.ballot, members=len(units), present=len(present)),
                awaiting,
            )
        )
    return ConferenceView(
        bloc=bloc,
        conference=conference,
        chair_unit=next((u for u in units if u.id == conference.chair_unit_id), None),
        present=present,
        absent=absent,
        quorum_met=quorum_met(rules, present=len(present), members=len(units)),
        missing=missing_for_quorum(rules, present=len(present), members=len(units)),
        ballots=tuple(lines),
    )


@dataclass(frozen=True, slots=True)
class CheckedIn:
    view: ConferenceView
    unit: Unit
    first: bool


async def check_in(services: Services, actor: Actor, code: str = "") -> CheckedIn | Rejected:
    """/checkin: a representative marks the unit present at the conference. Where check-in
    is at the venue (core.venue), only with the code on the hall screen: a wrong code counts
    toward the same lockout as a wrong invite code."""
    bloc_id = actor.current_bloc_id
    membership = actor.membership(bloc_id) if bloc_id is not None else None
    if bloc_id is None or membership is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    if membership.unit_id is None or not membership.has(Role.REPRESENTATIVE):
        # Not refused_not_representative: that message speaks of reports.
        return Rejected(Reason.CAST, {"why": CastRejection.NO_UNIT.value})
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        if venue_checkin_on(conference.venue_checkin, conference.place) and not (
            await uow.votes.is_present(conference.id, membership.unit_id)
        ):
            refused = await _venue_code_refused(uow, services, actor, conference, code, now)
            if refused is not None:
                await uow.commit()  # a wrong code is remembered
                return refused
        first = await uow.votes.check_in(conference.id, membership.unit_id, actor.identity.id, now)
        if first:
            await record(
                uow,
                services,
                bloc_id=bloc_id,
                actor_identity_id=actor.identity.id,
                unit_id=membership.unit_id,
                action="conference.checked_in",
                conference=conference.id,
            )
        view = await _conference_view(uow, bloc, conference)
        await uow.commit()
    if first:
        await tell_screens(services, bloc_id, "checkin", conference=conference.id)
    unit = next(u for u in view.present if u.id == membership.unit_id)
    return CheckedIn(view, unit, first)


async def _venue_code_refused(
    uow: UnitOfWork,
    services: Services,
    actor: Actor,
    conference: Conference,
    code: str,
    now: datetime,
) -> Rejected | None:
    """Why this code does not check the unit in at the venue, or None when it does."""
    place = {"place": conference.place}
    if not code.strip():
        return Rejected(Reason.VENUE_CODE_NEEDED, place)
    budget = await guess_budget(uow, actor.account, now)
    if not budget.allowed:
        minutes = max(1, -(-int(budget.retry_after.total_seconds()) // 60))
        return Rejected(Reason.LINK_RATE_LIMITED, {"minutes": minutes})
    if venue_code_ok(venue_key(services.ballot_secret), conference.id, code, now):
        return None
    await uow.invites.add_failure(actor.account.platform, actor.account.external_id, now)
    return Rejected(Reason.VENUE_CODE_WRONG, place)


async def set_venue_checkin(
    services: Services, actor: Actor, on: bool | None
) -> ConferenceView | Rejected:
    """`/conference checkin on|off|auto`: whether check-in needs the hall screen's code (auto:
    when the conference has a place)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        await uow.votes.set_venue_checkin(conference.id, on)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="conference.venue_checkin",
            conference=conference.id,
            setting="auto" if on is None else ("on" if on else "off"),
        )
        view = await _conference_view(uow, bloc, replace(conference, venue_checkin=on))
        await uow.commit()
    return view


# --- creating ballots -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BallotsCreated:
    view: ConferenceView
    created: tuple[BallotLine, ...]


async def create_conference_ballots(services: Services, actor: Actor) -> BallotsCreated | Rejected:
    """The whole conference in one step from the bloc's defaults: the report, every award
    tier, the leader (rotation proposal) and the deputy."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        if await uow.votes.ballots(bloc_id, conference.id):
            return Rejected(Reason.BALLOTS_EXIST)
        units = await uow.blocs.units(bloc_id)
        if not units:
            return Rejected(Reason.NO_UNITS)
        every_unit = [Option(i, OptionKind.UNIT, u.id) for i, u in enumerate(units)]
        plan: list[tuple[BallotKind, str | None, int, int, list[Option]]] = [
            (
                BallotKind.APPROVE_REPORT,
                None,
                0,
                1,
                [
                    Option(0, OptionKind.AGREE),
                    Option(1, OptionKind.DISAGREE),
                    Option(2, OptionKind.OTHER),
                ],
            ),
        ]
        # The award tiers of the bloc's level (bot.core.levels), in their order.
        for order, (tier_key, quota) in enumerate(default_tiers(bloc.level, len(units)), start=1):
            plan.append((BallotKind.AWARD, tier_key, order, quota, every_unit))
        # Rotation (domain.md): this year's deputy is proposed as leader; without a deputy,
        # the unit after this year's leader in the rotation order.
        deputy = next((u for u in units if u.id == bloc.deputy_unit_id), None)
        proposal = deputy or rotation_proposal(units, bloc.leader_unit_id)
        leader_options = (
            [Option(0, OptionKind.UNIT, proposal.id)] if proposal is not None else every_unit
        )
        plan.append((BallotKind.LEADER, None, 0, 1, leader_options))
        plan.append((BallotKind.DEPUTY, None, 0, 1, every_unit))
        for kind, tier, order, quota, options in plan:
            info = await uow.votes.add_ballot(
                bloc_id=bloc_id,
                conference_id=conference.id,
                kind=kind,
                title="",
                rules=default_rules(kind, quota=quota),
                options=options,
                tier=tier,
                tier_order=order,
                quota=quota,
                runoff_of=None,
                closes_at=None,
                created_by=actor.identity.id,
                now=now,
            )
            await record(
                uow,
                services,
                bloc_id=bloc_id,
                actor_identity_id=actor.identity.id,
                action="ballot.created",
                ballot=info.ballot.id,
                kind=kind.value,
                tier=tier,
                quota=quota,
                threshold=info.ballot.rules.threshold.label(),
                base=info.ballot.rules.base.value,
            )
        view = await _conference_view(uow, bloc, conference)
        await uow.commit()
    return BallotsCreated(view, view.ballots)


async def create_custom_ballot(
    services: Services, actor: Actor, *, title: str
) -> BallotLine | Rejected:
    """A custom yes/no question put to the conference."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    title = clean(title)
    if not title:
        return Rejected(Reason.NAME_MISSING)
    refused = refuse_long("ballot_title", title)
    if refused is not None:
        return refused
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        info = await uow.votes.add_ballot(
            bloc_id=bloc_id,
            conference_id=conference.id,
            kind=BallotKind.YES_NO,
            title=title,
            rules=default_rules(BallotKind.YES_NO),
            options=[Option(0, OptionKind.YES), Option(1, OptionKind.NO)],
            tier=None,
            tier_order=0,
            quota=1,
            runoff_of=None,
            closes_at=None,
            created_by=actor.identity.id,
            now=services.clock.now(),
        )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="ballot.created",
            ballot=info.ballot.id,
            kind="yes_no",
            title=title,
        )
        view = await _conference_view(uow, bloc, conference)
        await uow.commit()
    return next(line for line in view.ballots if line.info.ballot.id == info.ballot.id)


# --- opening, extending, cancelling -------------------------------------------------------


async def numbered(uow: UnitOfWork, bloc_id: int) -> list[tuple[int, BallotInfo]]:
    """Every ballot of the bloc with the number the chat shows: its place in its conference
    (each year's conference numbers its ballots from 1; the old years' keep theirs)."""
    counters: dict[int | None, int] = {}
    found = []
    for info in await uow.votes.ballots(bloc_id):
        counters[info.conference_id] = counters.get(info.conference_id, 0) + 1
        found.append((counters[info.conference_id], info))
    return found


async def current_ballots(uow: UnitOfWork, bloc_id: int) -> list[BallotInfo]:
    """This year's ballots (the conference of the bloc's current year), in /ballot order."""
    bloc = await uow.blocs.require(bloc_id)
    conference = await uow.votes.conference(bloc_id, bloc.year)
    if conference is None:
        return []
    return await uow.votes.ballots(bloc_id, conference.id)


def number_of(numbers: list[tuple[int, BallotInfo]], ballot_id: int) -> int | None:
    return next((n for n, info in numbers if info.ballot.id == ballot_id), None)


async def _pick(
    uow: UnitOfWork, bloc_id: int, ref: str, *, lock: bool = False
) -> tuple[BallotInfo, int] | Rejected:
    """A ballot of this year's conference by its number in /ballot (never by a raw id).
    `lock`: the bloc's row first (so /bloc newyear and this change never interleave: the
    year read here is the year committed), then the ballot's."""
    if lock:
        await uow.blocs.require(bloc_id, lock=True)
    ballots = await current_ballots(uow, bloc_id)
    ref = clean(ref).lstrip("#")
    if not ref.isdecimal() or not 1 <= int(ref) <= len(ballots):
        return Rejected(Reason.UNKNOWN_BALLOT, {"value": ref})
    number = int(ref)
    info = await uow.votes.ballot(ballots[number - 1].ballot.id, lock=lock)
    assert info is not None
    return info, number


@dataclass(frozen=True, slots=True)
class Opened:
    line: BallotLine
    bloc: Bloc
    ballot: dict[str, Any]
    units: int


async def open_ballot(
    services: Services, actor: Actor, *, ref: str, closes_text: str = ""
) -> Opened | Rejected:
    """Open a ballot if the quorum is present; candidates are fixed now (a unit proposed at a
    higher award tier, or the elected leader for the deputy ballot, is no longer one)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    return await open_ballot_as(
        services, bloc_id, actor.identity.id, ref=ref, closes_text=closes_text
    )


async def open_ballot_as(
    services: Services,
    bloc_id: int,
    actor_identity_id: int | None,
    *,
    ref: str,
    closes_text: str = "",
    scheduled: bool = False,
    before_commit: Callable[[UnitOfWork, Opened], Awaitable[None]] | None = None,
) -> Opened | Rejected:
    """The opening itself, by a secretariat member or (`actor_identity_id` None) by the tick
    at the scheduled time; a closing time set beforehand with `/ballot schedule` is kept.
    `scheduled`: only if its opening time has come (checked under the lock: a schedule
    cleared a moment ago is not acted on). `before_commit` queues its messages in the same
    transaction, so an opening is never committed without them."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        picked = await _pick(uow, bloc_id, ref, lock=True)
        if isinstance(picked, Rejected):
            return picked
        info, number = picked
        opens_at = info.ballot.opens_at
        if scheduled and (opens_at is None or opens_at > now):
            return Rejected(Reason.NOT_SCHEDULED, {"number": number})
        if info.ballot.status is not BallotStatus.DRAFT:
            return Rejected(Reason.BALLOT_NOT_DRAFT, {"number": number})
        waiting = await _undecided_before(uow, bloc_id, info)
        if waiting is not None:
            return Rejected(Reason.DECIDE_FIRST, {"number": number, "first": waiting})
        conference = await uow.votes.conference(bloc_id, bloc.year)
        units = await uow.blocs.units(bloc_id)
        present = await uow.votes.present(conference.id) if conference else set()
        if not quorum_met(info.ballot.rules, present=len(present), members=len(units)):
            missing = missing_for_quorum(
                info.ballot.rules, present=len(present), members=len(units)
            )
            return Rejected(
                Reason.NO_QUORUM,
                {"missing": missing, "present": len(present), "units": len(units)},
            )
        closes_at = info.ballot.closes_at
        if closes_text.strip():
            closes_at = local_to_utc(closes_text, bloc.timezone)
            if closes_at is None:
                return Rejected(Reason.BAD_DATE, {"value": clean(closes_text)})
            if closes_at <= now:
                return Rejected(Reason.DEADLINE_PAST, {"value": clean(closes_text)})
        elif closes_at is not None and closes_at <= now:
            return Rejected(Reason.DEADLINE_PAST, {"value": format_dt(closes_at, bloc.timezone)})
        options = await _final_options(uow, bloc_id, info)
        if not [o for o in options if o.kind is not OptionKind.OTHER]:
            return Rejected(Reason.NO_CANDIDATES, {"number": number})
        if info.ballot.rules.secret:
            refused = await sealed.seal_on_open(
                uow, services, info.ballot.id, publish=bloc.publish_receipts
            )
            if refused is not None:
                return refused
        await uow.votes.set_options(info.ballot.id, options)
        if closes_at is not None:
            await uow.votes.set_closes_at(info.ballot.id, closes_at)
        await uow.votes.set_status(info.ballot.id, BallotStatus.OPEN, now=now)
        audit = await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor_identity_id,
            action="ballot.opened",
            ballot=info.ballot.id,
            candidates=len(options),
            present=len(present),
            closes_at=closes_at.isoformat() if closes_at else None,
        )
        reps = await representatives(uow, bloc_id)
        opened = await uow.votes.ballot(info.ballot.id)
        assert opened is not None
        names = {u.id: u.name for u in units}
        context = _ballot_context(opened, number, names, bloc)
        notice = Notice(
            reps,
            "ballot_opened_notice",
            {"ballot": context},
            buttons=(("t:button.vote_now", f"vt:{opened.ballot.id}:show:0"),),
        )
        await queue_notices(uow, services, [notice], audit=audit, bloc_id=bloc_id, now=now)
        group = services.renderer.render(
            Locale.VI, "ballot_group_opened", ballot=context, units=len(units)
        )
        key = f"opened:{info.ballot.id}:group"
        await uow.outbox.enqueue(
            to_group(bloc.group_chat_id, group, key=key, bloc_id=bloc_id, now=now), now
        )
        done = Opened(BallotLine(opened, number, 0), bloc, context, len(units))
        if before_commit is not None:
            await before_commit(uow, done)
        await uow.commit()
    await tell_screens(services, bloc_id, "opened", ballot=info.ballot.id)
    if not scheduled:  # the tick sends what it queued itself
        await services.outbox_flush()
    return done


async def _final_options(uow: UnitOfWork, bloc_id: int, info: BallotInfo) -> list[Option]:
    options = list(info.ballot.options)
    if info.ballot.kind is BallotKind.AWARD and info.runoff_of is None:
        higher: list[int] = []
        for other in await uow.votes.ballots(bloc_id, info.conference_id):
            if other.ballot.kind is BallotKind.AWARD and other.tier_order < info.tier_order:
                higher += await _decided_units(uow, other)
        keep = exclude_higher_tiers([o.unit_id for o in options if o.unit_id], higher)
        options = [o for o in options if o.unit_id in keep]
    if info.ballot.kind is BallotKind.DEPUTY and info.runoff_of is None:
        leaders: list[int] = []
        for other in await uow.votes.ballots(bloc_id, info.conference_id):
            if other.ballot.kind is BallotKind.LEADER:
                leaders += await _decided_units(uow, other)
        options = [o for o in options if o.unit_id not in leaders]
    if info.ballot.rules.secret:
        # A written opinion would name its writer: a secret ballot takes none (opinions are
        # given at the conference).
        options = [o for o in options if o.kind is not OptionKind.OTHER]
    return [Option(i, o.kind, o.unit_id, o.label) for i, o in enumerate(options)]


async def _undecided_before(uow: UnitOfWork, bloc_id: int, info: BallotInfo) -> int | None:
    """The number of a ballot that must be decided before this one opens, if any: every
    higher award tier (and its run-offs) before a lower one, the leader before the deputy;
    otherwise one unit could be proposed at two tiers, or be both leader and deputy."""
    if info.runoff_of is not None:
        return None
    for number, other in await numbered(uow, bloc_id):
        if other.conference_id != info.conference_id or other.ballot.id == info.ballot.id:
            continue
        earlier = (
            info.ballot.kind is BallotKind.AWARD
            and other.ballot.kind is BallotKind.AWARD
            and other.tier_order < info.tier_order
        ) or (info.ballot.kind is BallotKind.DEPUTY and other.ballot.kind is BallotKind.LEADER)
        if not earlier or other.ballot.status in (BallotStatus.CANCELLED, BallotStatus.DRAFT):
            continue  # a tier never opened does not hold the others back
        if other.ballot.status is not BallotStatus.CLOSED:
            return number
        stored = await uow.votes.result(other.ballot.id)
        if stored is not None and stored[2] == "pending":
            return number
    return None


async def _decided_units(uow: UnitOfWork, info: BallotInfo) -> list[int]:
    """Units a closed ballot (or the run-offs that followed it) decided."""
    found: list[int] = []
    stored = await uow.votes.result(info.ballot.id)
    if stored is not None:
        found += stored[1]
    for other in await uow.votes.ballots(info.bloc_id, info.conference_id):
        if other.runoff_of == info.ballot.id:
            found += await _decided_units(uow, other)
    return found


async def representatives(uow: UnitOfWork, bloc_id: int) -> tuple[int, ...]:
    """The identities representing a unit of the bloc (who votes, signs, acknowledges)."""
    members = await uow.identities.members_of_bloc(bloc_id)
    return tuple(i.id for m, i in members if m.has(Role.REPRESENTATIVE) and m.unit_id)


def _ballot_context(
    info: BallotInfo, number: int, names: dict[int, str], bloc: Bloc
) -> dict[str, Any]:
    """Plain values a template needs to describe a ballot (notices carry no objects)."""
    return {
        "number": number,
        "kind": info.ballot.kind.value,
        "tier": info.tier,
        "title": info.title,
        "quota": info.quota,
        "runoff": info.runoff_of is not None,
        "threshold": info.ballot.rules.threshold.label(),
        "base": info.ballot.rules.base.value,
        "self_vote": info.ballot.rules.self_vote,
        "secret": info.ballot.rules.secret,
        "publish_receipts": info.ballot.rules.secret and info.publish_receipts,
        "max_choices": info.ballot.rules.max_choices,
        "opens_at": info.ballot.opens_at,
        "closes_at": info.ballot.closes_at,
        "tz": bloc.timezone,
        "bloc_kind": bloc.kind.value,
        "options": [_option_label(o, names) for o in info.ballot.options],
    }


ballot_line_context = _ballot_context


def _option_label(option: Option, names: dict[int, str]) -> dict[str, Any]:
    return {
        "index": option.index,
        "unit_id": option.unit_id,
        "kind": option.kind.value,
        "unit": names.get(option.unit_id, "") if option.unit_id else "",
        "label": option.label,
    }


@dataclass(frozen=True, slots=True)
class BallotChanged:
    line: BallotLine
    ballot: dict[str, Any]


async def extend_ballot(
    services: Services, actor: Actor, *, ref: str, closes_text: str
) -> BallotChanged | Rejected:
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        picked = await _pick(uow, bloc_id, ref, lock=True)
        if isinstance(picked, Rejected):
            return picked
        info, number = picked
        if info.ballot.status is not BallotStatus.OPEN:
            return Rejected(Reason.BALLOT_NOT_OPEN, {"number": number})
        closes_at = local_to_utc(closes_text, bloc.timezone)
        if closes_at is None:
            return Rejected(Reason.BAD_DATE, {"value": clean(closes_text)})
        if closes_at <= now or (info.ballot.closes_at and closes_at <= info.ballot.closes_at):
            return Rejected(Reason.DEADLINE_PAST, {"value": clean(closes_text)})
        await uow.votes.set_closes_at(info.ballot.id, closes_at)
        audit = await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="ballot.extended",
            ballot=info.ballot.id,
            closes_at=closes_at.isoformat(),
        )
        reps = await representatives(uow, bloc_id)
        names = {u.id: u.name for u in await uow.blocs.units(bloc_id)}
        updated = await uow.votes.ballot(info.ballot.id)
        assert updated is not None
        count = await uow.votes.cast_count(info.ballot.id)
        context = {"ballot": _ballot_context(updated, number, names, bloc)}
        notice = Notice(reps, "ballot_extended_notice", context)
        queued = await queue_notices(
            uow, services, [notice], audit=audit, bloc_id=bloc_id, now=now
        )
        await uow.commit()
    await tell_screens(services, bloc_id, "extended", ballot=info.ballot.id)
    if queued:
        await services.outbox_flush()
    return BallotChanged(BallotLine(updated, number, count), context["ballot"])


@dataclass(frozen=True, slots=True)
class Scheduled:
    line: BallotLine
    ballot: dict[str, Any]
    opens_at: datetime | None  # None: the schedule was cleared
    closes_at: datetime | None
    tz: str


async def schedule_ballot(
    services: Services, actor: Actor, *, ref: str, opens_text: str, closes_text: str = ""
) -> Scheduled | Rejected:
    """Set (or clear, with "tắt"/"off") when a draft ballot opens and closes by itself; the
    tick opens it at that time if the quorum is present, else tells the secretariat."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        picked = await _pick(uow, bloc_id, ref, lock=True)
        if isinstance(picked, Rejected):
            return picked
        info, number = picked
        if info.ballot.status is not BallotStatus.DRAFT:
            return Rejected(Reason.BALLOT_NOT_DRAFT, {"number": number})
        opens_at: datetime | None = None
        closes_at: datetime | None = None
        if fold_diacritics(opens_text) not in {"off", "tat", "huy", "khong"}:
            opens_at = local_to_utc(opens_text, bloc.timezone)
            if opens_at is None:
                return Rejected(Reason.BAD_DATE, {"value": clean(opens_text)})
            if opens_at <= now:
                return Rejected(Reason.DEADLINE_PAST, {"value": clean(opens_text)})
            if closes_text.strip():
                closes_at = local_to_utc(closes_text, bloc.timezone)
                if closes_at is None:
                    return Rejected(Reason.BAD_DATE, {"value": clean(closes_text)})
                if closes_at <= opens_at:
                    return Rejected(Reason.CLOSES_BEFORE_OPENS, {"value": clean(closes_text)})
        await uow.votes.set_schedule(info.ballot.id, opens_at, closes_at)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="ballot.scheduled",
            ballot=info.ballot.id,
            opens_at=opens_at.isoformat() if opens_at else None,
            closes_at=closes_at.isoformat() if closes_at else None,
        )
        names = {u.id: u.name for u in await uow.blocs.units(bloc_id)}
        updated = await uow.votes.ballot(info.ballot.id)
        assert updated is not None
        await uow.commit()
    return Scheduled(
        BallotLine(updated, number, 0),
        _ballot_context(updated, number, names, bloc),
        opens_at,
        closes_at,
        bloc.timezone,
    )


async def cancel_ballot(
    services: Services, actor: Actor, *, ref: str, reason: str
) -> BallotChanged | Rejected:
    """Cancel a ballot with a reason; voters are told; a new one may be created."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    reason = clean(reason)
    if not reason:
        return Rejected(Reason.COMMENT_MISSING)
    refused = refuse_long("cancel_reason", reason)
    if refused is not None:
        return refused
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        picked = await _pick(uow, bloc_id, ref, lock=True)
        if isinstance(picked, Rejected):
            return picked
        info, number = picked
        if info.ballot.status in (BallotStatus.CLOSED, BallotStatus.CANCELLED):
            return Rejected(Reason.BALLOT_NOT_OPEN, {"number": number})
        await uow.votes.set_status(info.ballot.id, BallotStatus.CANCELLED, now=now, reason=reason)
        deleted_xid: int | None = None
        if info.ballot.rules.secret:
            await uow.secret.empty_box(info.ballot.id)  # void votes are not kept sealed either
            deleted_xid = await uow.secret.transaction_id()
        audit = await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="ballot.cancelled",
            ballot=info.ballot.id,
            reason=reason,
        )
        was_open = info.ballot.status is BallotStatus.OPEN
        reps = await representatives(uow, bloc_id) if was_open else ()
        names = {u.id: u.name for u in await uow.blocs.units(bloc_id)}
        updated = await uow.votes.ballot(info.ballot.id)
        assert updated is not None
        described = _ballot_context(updated, number, names, bloc)
        context: dict[str, Any] = {"ballot": described, "reason": reason}
        notice = Notice(reps, "ballot_cancelled_notice", context)
        queued = await queue_notices(
            uow, services, [notice], audit=audit, bloc_id=bloc_id, now=now
        )
        await uow.commit()
    await tell_screens(services, bloc_id, "cancelled", ballot=info.ballot.id)
    if info.ballot.rules.secret:
        services.db.purge_sealed(deleted_xid)
    if queued:
        await services.outbox_flush()
    return BallotChanged(BallotLine(updated, number, 0), {**described, "reason": reason})


# --- voting -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoteView:
    """What one representative sees of one ballot: candidates, their selection, their vote."""

    info: BallotInfo
    number: int
    bloc: Bloc
    unit: Unit
    names: dict[int, str]
    selection: tuple[int, ...]
    version: int
    current: Choice | None
    turnout: int
    units: int
    pending: Choice | None = None  # a choice shown for confirmation, not cast yet
    voted: bool = False  # the unit has voted (a secret ballot's choice is never known here)

    @property
    def context(self) -> dict[str, Any]:
        return _ballot_context(self.info, self.number, self.names, self.bloc)


async def _voter(
    uow: UnitOfWork, actor: Actor, ballot_id: int, *, lock: bool = False
) -> tuple[BallotInfo, int, Bloc, Unit, dict[int, str]] | Rejected:
    """The ballot and the unit the sender votes for, or why they may not. `lock`: the
    ballot's row is held to the end of the transaction against a close (a cast racing the
    close either lands before the count or sees the ballot closed), shared with the other
    units' casts and taps — one unit's go one at a time under the unit's lock."""
    numbered = await uow.votes.numbered_ballot(ballot_id, lock=lock, shared=True)
    if numbered is None:
        return Rejected(Reason.UNKNOWN_BALLOT, {"value": str(ballot_id)})
    info, number = numbered
    membership = actor.membership(info.bloc_id)
    if membership is None:
        # Another bloc's ballot (a forged or foreign button): a member of some bloc is told
        # it is not theirs, not that they belong to no bloc.
        if actor.memberships:
            return Rejected(Reason.CAST, {"why": CastRejection.NOT_ELIGIBLE.value})
        return Rejected(Reason.NOT_MEMBER)
    if membership.has(Role.OBSERVER) and not membership.has(Role.REPRESENTATIVE):
        return Rejected(Reason.OBSERVER_NO_VOTE)
    if membership.unit_id is None or not membership.has(Role.REPRESENTATIVE):
        return Rejected(Reason.CAST, {"why": CastRejection.NO_UNIT.value})
    bloc = await uow.blocs.require(info.bloc_id)
    units = await uow.blocs.units(info.bloc_id)
    unit = next(u for u in units if u.id == membership.unit_id)
    return info, number, bloc, unit, {u.id: u.name for u in units}


async def vote_view(services: Services, actor: Actor, *, ballot_id: int) -> VoteView | Rejected:
    """A ballot to vote on, or why it can no longer be voted on (closed, cancelled): a stale
    button of a closed ballot never opens its choices again."""
    async with services.db.uow() as uow:
        found = await _voter(uow, actor, ballot_id)
        if isinstance(found, Rejected):
            return found
        problem = _status_problem(found[0], services.clock.now())
        if problem is not None:
            return Rejected(Reason.CAST, {"why": problem.value})
        return await _view(uow, services, actor, *found)


async def _view(
    uow: UnitOfWork,
    services: Services,
    actor: Actor,
    info: BallotInfo,
    number: int,
    bloc: Bloc,
    unit: Unit,
    names: dict[int, str],
    pending: Choice | None = None,
    *,
    count: bool = True,
) -> VoteView:
    """`count`: read the turnout (a cast reads it after its own write instead)."""
    current: Choice | None = None
    # Only a multi-choice ballot has a selection being built (a single choice is confirmed
    # straight from its button).
    multi = info.ballot.rules.max_choices > 1
    selection: tuple[int, ...] = ()
    version = 0
    if info.ballot.rules.secret:
        # The choice is sealed: whether the unit voted is all there is to show.
        if multi:
            selection, version = await _secret_draft(uow, services, info, unit.id)
        voted = await uow.secret.has_voted(info.ballot.id, unit.id)
    else:
        if multi:
            selection, version = await uow.votes.draft(info.ballot.id, unit.id, actor.identity.id)
        cast = await uow.votes.open_vote(info.ballot.id, unit.id)
        current, voted = (cast.choice if cast else None), cast is not None
    return VoteView(
        info=info,
        number=number,
        bloc=bloc,
        unit=unit,
        names=names,
        selection=selection,
        version=version,
        current=current,
        turnout=await uow.votes.cast_count(info.ballot.id) if count else 0,
        units=len(names),
        pending=pending,
        voted=voted,
    )


async def _secret_draft(
    uow: UnitOfWork, services: Services, info: BallotInfo, unit_id: int, *, lock: bool = False
) -> tuple[tuple[int, ...], int]:
    """A secret ballot's selection for the unit, unsealed (empty if it cannot be opened:
    the cast then refuses with the reason)."""
    keys = await sealed.keys_for(uow, services, info.ballot.id)
    if isinstance(keys, Rejected):
        return (), 0
    try:
        return await sealed.draft(uow, keys, info, unit_id, lock=lock)
    except SealError:
        return (), 0


async def open_ballots_for(services: Services, actor: Actor) -> list[VoteView] | Rejected:
    """/vote: the open ballots of the person's bloc and whether the unit has voted."""
    bloc_id = actor.current_bloc_id
    if bloc_id is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    async with services.db.uow() as uow:
        views = []
        now = services.clock.now()
        for info in await uow.votes.ballots(bloc_id):
            if _status_problem(info, now) is not None:
                continue  # not open, or its closing time has passed (casting is refused)
            found = await _voter(uow, actor, info.ballot.id)
            if isinstance(found, Rejected):
                return found
            views.append(await _view(uow, services, actor, *found))
    return views


async def toggle(
    services: Services, actor: Actor, *, ballot_id: int, index: int
) -> VoteView | Rejected:
    """A tap on a candidate of a multi-choice ballot: the selection lives on the server, so two
    fast taps on the same (stale) keyboard keep both."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        # Locks first, checks after: a close (which locks the ballot) or a colleague's cast
        # (which locks the unit) either lands before this tap is checked or waits for it; a
        # draft is never written for a ballot already counted or a unit that has voted.
        found = await _voter(uow, actor, ballot_id, lock=True)
        if isinstance(found, Rejected):
            return found
        info, number, bloc, unit, names = found
        await uow.reports.lock_unit(unit.id)  # the first tap's draft row is not there to lock
        option = info.ballot.option(index)
        if option is None or info.ballot.rules.max_choices == 1:
            # A single choice is never built up (its keyboard has no toggles): a forged tap.
            return Rejected(Reason.CAST, {"why": CastRejection.NOT_A_CANDIDATE.value})
        problem = _status_problem(info, now)
        if problem is None and not info.ballot.rules.self_vote and option.unit_id == unit.id:
            problem = CastRejection.SELF_VOTE
        secret = info.ballot.rules.secret
        if problem is None and secret and await uow.secret.has_voted(ballot_id, unit.id):
            problem = CastRejection.ALREADY_VOTED
        if problem is not None:
            return Rejected(Reason.CAST, {"why": problem.value})
        keys = await sealed.keys_for(uow, services, ballot_id) if secret else None
        if isinstance(keys, Rejected):
            return keys
        if keys is not None:
            # The sealed draft is per unit, locked while it is replaced.
            selection, _ = await sealed.draft(uow, keys, info, unit.id, lock=True)
        else:
            selection, _ = await uow.votes.draft(ballot_id, unit.id, actor.identity.id, lock=True)
        chosen = set(selection)
        if index in chosen:
            chosen.remove(index)
        elif len(chosen) < info.ballot.rules.max_choices:
            chosen.add(index)
        else:
            return Rejected(
                Reason.CAST,
                {
                    "why": CastRejection.TOO_MANY_CHOICES.value,
                    "max": info.ballot.rules.max_choices,
                },
            )
        if keys is not None:
            await sealed.put_draft(uow, keys, info, unit.id, tuple(chosen))
        else:
            await uow.votes.put_draft(ballot_id, unit.id, actor.identity.id, tuple(chosen), now)
        view = await _view(uow, services, actor, info, number, bloc, unit, names)
        await uow.commit()
    return view


def _status_problem(info: BallotInfo, now: datetime) -> CastRejection | None:
    if info.ballot.status is BallotStatus.CANCELLED:
        return CastRejection.CANCELLED
    closes = info.ballot.closes_at
    if info.ballot.status is BallotStatus.CLOSED or (closes is not None and now >= closes):
        return CastRejection.CLOSED
    if info.ballot.status is not BallotStatus.OPEN:
        return CastRejection.NOT_OPEN
    return None


async def preview(
    services: Services, actor: Actor, *, ballot_id: int, choice: Choice | None
) -> VoteView | Rejected:
    """The confirm step: the choice (or the multi-select draft) shown once more."""
    if choice is not None and (refused := refuse_long("other_opinion", choice.other_text)):
        return refused
    async with services.db.uow() as uow:
        found = await _voter(uow, actor, ballot_id)
        if isinstance(found, Rejected):
            return found
        info, number, bloc, unit, names = found
        if info.ballot.rules.secret:
            keys = await sealed.keys_for(uow, services, ballot_id)
            if isinstance(keys, Rejected):
                return keys
        view = await _view(uow, services, actor, info, number, bloc, unit, names)
    pending = _without_stray_text(info, choice if choice is not None else Choice(view.selection))
    problem = _check(view, pending, services.clock.now())
    if problem is not None:
        return Rejected(Reason.CAST, {"why": problem.value, "max": info.ballot.rules.max_choices})
    return VoteView(**{**_fields(view), "pending": pending})


def _without_stray_text(info: BallotInfo, choice: Choice) -> Choice:
    """A text typed for "ý kiến khác" belongs to that choice only (a form keeps the text box
    filled while another option is chosen; a stale confirm button carries none)."""
    if any(
        (o := info.ballot.option(i)) is not None and o.kind is OptionKind.OTHER
        for i in choice.options
    ):
        return choice
    return Choice(choice.options, choice.blank)


def _fields(view: VoteView) -> dict[str, Any]:
    return {name: getattr(view, name) for name in VoteView.__slots__}


def _check(view: VoteView, choice: Choice, now: datetime) -> CastRejection | None:
    return check_cast(
        view.info.ballot,
        voter_unit_id=view.unit.id,
        is_observer=False,
        choice=choice,
        now=now,
        eligible_unit_ids=frozenset(view.names),
        already_cast=view.voted,
    )


@dataclass(frozen=True, slots=True)
class Accepted:
    view: VoteView
    replaced: bool
    receipt: str | None = None  # a secret ballot's receipt code: shown once, never stored
    unchanged: bool = False  # the unit's open vote was already this choice: nothing written


CAST_ANSWERS = frozenset({"cast", "recast", "unchanged"})


def cast_again(view: VoteView, answer: str) -> Accepted | None:
    """An open ballot's cast as :func:`cast_vote` answered it (`answer`: one of CAST_ANSWERS),
    from the unit's vote as stored: the web's page after «Xác nhận», and every reload of it,
    which casts nothing. A secret ballot's answer (its receipt) is never shown again."""
    if view.info.ballot.rules.secret or view.current is None or answer not in CAST_ANSWERS:
        return None
    return Accepted(view, replaced=answer == "recast", unchanged=answer == "unchanged")


async def cast_vote(
    services: Services,
    actor: Actor,
    *,
    ballot_id: int,
    choice: Choice | None,
    version: int | None = None,
    held: str | None = None,
) -> Accepted | Rejected:
    """One ballot per unit: an open ballot may be re-cast by any of the unit's representatives
    until the close (the last choice counts; the others are told). `held`: the choice as a
    token from :func:`hold_choice` (the web's confirm page), opened in this transaction."""
    if choice is not None and (refused := refuse_long("other_opinion", choice.other_text)):
        return refused
    now = services.clock.now()
    async with services.db.uow() as uow:
        # The ballot is read under its lock: a cast racing a close either lands before the
        # count or sees the ballot closed (never a vote stored after the tally).
        found = await _voter(uow, actor, ballot_id, lock=True)
        if isinstance(found, Rejected):
            return found
        info, number, bloc, unit, names = found
        await uow.reports.lock_unit(unit.id)  # one unit's casts go one at a time
        keys = (
            await sealed.keys_for(uow, services, ballot_id) if info.ballot.rules.secret else None
        )
        if isinstance(keys, Rejected):
            return keys  # another BALLOT_SECRET: nothing can be sealed or read
        view = await _view(uow, services, actor, info, number, bloc, unit, names, count=False)
        # A closed ballot, or a secret one already cast, says so before anything else (an old
        # confirm button's selection version no longer matters then).
        early = _status_problem(info, now) or (
            CastRejection.ALREADY_VOTED if info.ballot.rules.secret and view.voted else None
        )
        if early is not None:
            return Rejected(
                Reason.CAST, {"why": early.value, "max": info.ballot.rules.max_choices}
            )
        if held is not None:
            unheld = _unhold(info, keys, actor.identity.id, held)
            if isinstance(unheld, Rejected):
                return unheld
            if refused := refuse_long("other_opinion", unheld.other_text):
                return refused
            choice = unheld
        if choice is None and version is not None and version != view.version:
            # The selection changed after it was shown for confirmation (another keyboard).
            return Rejected(Reason.SELECTION_CHANGED)
        pending = _without_stray_text(
            info, choice if choice is not None else Choice(view.selection)
        )
        problem = _check(view, pending, now)
        if problem is not None:
            return Rejected(
                Reason.CAST, {"why": problem.value, "max": info.ballot.rules.max_choices}
            )
        if keys is None and view.current is not None and same_choice(view.current, pending):
            # The same choice again (a double tap on «Xác nhận», a colleague agreeing): no
            # change to record, audit or tell; only a multi-choice draft is done with.
            if info.ballot.rules.max_choices > 1:
                await uow.votes.delete_drafts(ballot_id, unit.id)
            turnout = await uow.votes.cast_count(ballot_id)
            await uow.commit()
            same = replace(view, selection=(), version=0, turnout=turnout)
            return Accepted(same, replaced=False, unchanged=True)
        receipt: str | None = None
        if keys is not None:
            replaced = False
            receipt = await sealed.cast(
                uow,
                services,
                keys,
                info,
                unit_id=unit.id,
                identity_id=actor.identity.id,
                choice=pending,
                now=now,
            )
            audit: dict[str, Any] = {"action": "vote.cast_secret", "ballot": ballot_id}
        else:
            replaced = await uow.votes.put_open_vote(
                ballot_id, unit.id, actor.identity.id, pending, now=now, exists=view.voted
            )
            if info.ballot.rules.max_choices > 1:
                await uow.votes.delete_drafts(ballot_id, unit.id)
            audit = {
                "action": "vote.recast" if replaced else "vote.cast",
                "ballot": ballot_id,
                "choice": list(pending.options),
                "blank": pending.blank,
            }
        colleagues = tuple(
            i
            for i in await uow.identities.representatives_of_unit(bloc.id, unit.id)
            if i != actor.identity.id
        )
        # Who cast for which unit (never what, for a secret ballot), written with the vote.
        # Last, so the bloc's audit chain — which every cast of the bloc appends to — is held
        # for the shortest time.
        event = await record(
            uow,
            services,
            bloc_id=bloc.id,
            actor_identity_id=actor.identity.id,
            unit_id=unit.id,
            **audit,
        )
        # The unit's other representatives are told in this transaction (the choice only on
        # an open ballot); nothing is read or written for a unit of one representative.
        context = {
            "ballot": view.context,
            "person": actor.identity.display_name,
            "unit": unit.name,
            "replaced": replaced,
            "choice": None if info.ballot.rules.secret else _choice_labels(view, pending),
        }
        queued = await queue_notices(
            uow,
            services,
            [Notice(colleagues, "vote_cast_colleague", context)],
            audit=event,
            bloc_id=bloc.id,
            now=now,
        )
        # Counted after the audit append: a cast of another unit that held the bloc's chain
        # before this one has committed by now, so the turnout shown is exact.
        turnout = await uow.votes.cast_count(ballot_id)
        await uow.commit()
    await tell_screens(services, bloc.id, "cast", ballot=ballot_id)
    if queued:
        await services.outbox_flush()
    # What the unit sees now follows from the cast: its choice counted (sealed for a secret
    # ballot), its multi-select draft gone.
    done = replace(
        view,
        selection=(),
        version=0,
        current=None if keys is not None else pending,
        voted=True,
        turnout=turnout,
    )
    return Accepted(done, replaced, receipt)


def _choice_labels(view: VoteView, choice: Choice) -> list[dict[str, Any]]:
    return [
        _option_label(o, view.names) for o in view.info.ballot.options if o.index in choice.options
    ]


# --- closing and counting -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Closed:
    line: BallotLine
    bloc: Bloc
    result: TallyResult
    decided: tuple[int, ...]
    decided_by: str
    runoff: BallotLine | None
    awaiting_decision: tuple[int, ...]
    names: dict[int, str]
    group_text_context: dict[str, Any]


async def close_ballot(services: Services, actor: Actor, *, ref: str) -> Closed | Rejected:
    """Close and count: returned, valid, blank, votes and % per option against the base, who
    passes; a tie at the quota boundary (or for leader) creates a run-off among the tied."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    return await close_ballot_as(services, bloc_id, actor.identity.id, ref=ref)


async def close_ballot_as(
    services: Services,
    bloc_id: int,
    actor_identity_id: int | None,
    *,
    ref: str,
    scheduled: bool = False,
) -> Closed | Rejected:
    """The count itself, by a secretariat member or (`actor_identity_id` None) by the tick at
    the closing time; the result goes to every other secretariat member and the group,
    through the outbox in the same transaction. `scheduled`: only if the closing time has
    come (checked under the lock: an extension committed a moment ago wins)."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        picked = await _pick(uow, bloc_id, ref, lock=True)
        if isinstance(picked, Rejected):
            return picked
        info, number = picked
        if info.ballot.status is not BallotStatus.OPEN:
            return Rejected(Reason.BALLOT_NOT_OPEN, {"number": number})
        closes_at = info.ballot.closes_at
        if scheduled and (closes_at is None or closes_at > now):
            return Rejected(Reason.NOT_SCHEDULED, {"number": number})
        units = await uow.blocs.units(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        present = await uow.votes.present(conference.id) if conference else set()
        unsealed: sealed.Unsealed | None = None
        if info.ballot.rules.secret:
            keys = await sealed.keys_for(uow, services, info.ballot.id)
            if isinstance(keys, Rejected):
                return keys
            opened = await sealed.unseal_box(uow, keys, info, publish=info.publish_receipts)
            if isinstance(opened, Rejected):
                return opened
            unsealed = opened
            casts = unsealed.casts
        else:
            casts = await uow.votes.casts(info.ballot.id)
        # "Ý kiến khác" texts go on the record with the unit (open ballots only).
        other_opinions = (
            []
            if info.ballot.rules.secret
            else [
                {
                    "unit": next((u.name for u in units if u.id == c.unit_id), ""),
                    "text": c.choice.other_text,
                }
                for c in casts
                if c.choice.other_text
            ]
        )
        result = tally(
            info.ballot, casts, members=len(units), present=len(present), quota=info.quota
        )
        decided = [o.unit_id for o in result.winners if o.unit_id is not None]
        decided_by = "runoff" if info.runoff_of is not None else "vote"
        runoff_line: BallotLine | None = None
        awaiting: tuple[int, ...] = ()
        tie, seats = _tie(info, result)
        if tie:
            tied_units = [o.unit_id for o in tie if o.unit_id is not None]
            if info.runoff_of is None:
                runoff_line = await _create_runoff(
                    uow, services, actor_identity_id, info, tie, seats, bloc_id
                )
            else:
                # Tied again: the score totals decide; tied again, the secretariat decides.
                scores = await _score_totals(uow, bloc_id)
                chosen, still = break_tie_by_score(tie, scores, seats)
                decided += [o.unit_id for o in chosen if o.unit_id is not None]
                decided_by = "score" if not still else "pending"
                awaiting = tuple(o.unit_id for o in still if o.unit_id is not None)
                await record(
                    uow,
                    services,
                    bloc_id=bloc_id,
                    actor_identity_id=actor_identity_id,
                    action="ballot.tie_by_score",
                    ballot=info.ballot.id,
                    tied=tied_units,
                    chosen=[o.unit_id for o in chosen],
                    still_tied=list(awaiting),
                )
        await uow.votes.set_status(info.ballot.id, BallotStatus.CLOSED, now=now)
        published = unsealed.published if unsealed is not None else []
        await uow.votes.put_result(
            info.ballot.id,
            {
                **_result_json(result),
                "awaiting": list(awaiting),
                "other_opinions": other_opinions,
                "receipts": published,
            },
            decided,
            decided_by,
            now,
        )
        deleted_xid: int | None = None
        if unsealed is not None:
            await sealed.store_count(uow, info.ballot.id, unsealed)
            deleted_xid = await uow.secret.transaction_id()
        audit = await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor_identity_id,
            action="ballot.closed",
            ballot=info.ballot.id,
            issued=result.issued,
            returned=result.returned,
            valid=result.valid,
            invalid=result.invalid,
            decided=decided,
            decided_by=decided_by,
        )
        members = await uow.identities.members_of_bloc(bloc_id)
        closed = await uow.votes.ballot(info.ballot.id)
        assert closed is not None
        names = {u.id: u.name for u in units}
        secretariat = tuple(i.id for m, i in members if m.has(Role.SECRETARIAT))
        context = _result_context(
            closed,
            number,
            names,
            bloc,
            result,
            decided,
            decided_by,
            runoff_line,
            awaiting,
            tie,
            other_opinions,
            published,
        )
        # The audit head after the count, on the result itself: a head known outside the
        # database, which `audit verify --head` finds still in the chain (a cut tail is caught).
        context["audit_head"] = audit
        # The result goes to every other secretariat member and the group, in this transaction.
        others = tuple(x for x in secretariat if x != actor_identity_id)
        notice = Notice(others, "ballot_result", context)
        await queue_notices(uow, services, [notice], audit=audit, bloc_id=bloc_id, now=now)
        group = services.renderer.render(Locale.VI, "ballot_result", **context)
        key = f"result:{info.ballot.id}:group"
        await uow.outbox.enqueue(
            to_group(bloc.group_chat_id, group, key=key, bloc_id=bloc_id, now=now), now
        )
        done = Closed(
            BallotLine(closed, number, result.returned),
            bloc,
            result,
            tuple(decided),
            decided_by,
            runoff_line,
            awaiting,
            names,
            context,
        )
        await uow.commit()
    await tell_screens(services, bloc_id, "closed", ballot=info.ballot.id)
    if unsealed is not None:
        services.db.purge_sealed(deleted_xid)  # in the background: the result goes out now
    if not scheduled:  # the tick sends what it queued itself
        await services.outbox_flush()
    return done


def _tie(info: BallotInfo, result: TallyResult) -> tuple[tuple[Option, ...], int]:
    """Who runs off, for how many seats: a tie at the quota boundary, or (leader, deputy) no
    majority with two or more units sharing the most votes."""
    if result.tie:
        return result.tie, result.runoff_seats
    if result.winners or info.ballot.kind not in (BallotKind.LEADER, BallotKind.DEPUTY):
        return (), 0
    top = max((r.votes for r in result.options), default=0)
    leaders = tuple(r.option for r in result.options if top > 0 and r.votes == top)
    return (leaders, 1) if len(leaders) >= 2 else ((), 0)


async def _create_runoff(
    uow: UnitOfWork,
    services: Services,
    actor_identity_id: int | None,
    info: BallotInfo,
    tie: tuple[Option, ...],
    seats: int,
    bloc_id: int,
) -> BallotLine:
    options = [Option(i, o.kind, o.unit_id, o.label) for i, o in enumerate(tie)]
    runoff = await uow.votes.add_ballot(
        bloc_id=bloc_id,
        conference_id=info.conference_id,
        kind=info.ballot.kind,
        title=info.title,
        rules=runoff_rules(info.ballot.rules, seats=seats),
        options=options,
        tier=info.tier,
        tier_order=info.tier_order,
        quota=seats,
        runoff_of=info.ballot.id,
        closes_at=None,
        created_by=actor_identity_id,
        now=services.clock.now(),
    )
    await record(
        uow,
        services,
        bloc_id=bloc_id,
        actor_identity_id=actor_identity_id,
        action="ballot.runoff_created",
        ballot=runoff.ballot.id,
        of=info.ballot.id,
        tied=[o.unit_id for o in tie],
        seats=seats,
    )
    number = number_of(await numbered(uow, bloc_id), runoff.ballot.id)
    assert number is not None
    return BallotLine(runoff, number, 0)


async def _score_totals(uow: UnitOfWork, bloc_id: int) -> dict[int, int]:
    """The bloc's score total per unit from its latest report period (what counts)."""
    # An achievement period (files only, no scores) is no scoring period.
    periods = [p for p in await uow.reports.periods(bloc_id) if p.kind.scored]
    if not periods:
        return {}
    latest = await uow.reports.latest_by_unit(periods[-1].id)
    return {unit_id: s.total_cp for unit_id, s in latest.items()}


@dataclass(frozen=True, slots=True)
class Decided:
    ballot: dict[str, Any]
    unit: Unit


async def decide(
    services: Services, actor: Actor, *, ref: str, unit_ref: str
) -> Decided | Rejected:
    """Tied after the run-off and on score: the secretariat decides (audited, on the record)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        picked = await _pick(uow, bloc_id, ref, lock=True)
        if isinstance(picked, Rejected):
            return picked
        info, number = picked
        stored = await uow.votes.result(info.ballot.id)
        if stored is None or stored[2] != "pending":
            return Rejected(Reason.NOTHING_TO_DECIDE, {"number": number})
        result, decided, _ = stored
        tied = [int(u) for u in result.get("awaiting", [])]
        units = await uow.blocs.units(bloc_id)
        names = {u.id: u.name for u in units}
        bloc = await uow.blocs.require(bloc_id)
        unit = find_unit(units, unit_ref)
        if unit is None or unit.id not in tied:
            return Rejected(Reason.NOT_TIED, {"value": clean(unit_ref)})
        await uow.votes.put_result(
            info.ballot.id,
            {**result, "awaiting": []},
            [*decided, unit.id],
            "secretariat",
            services.clock.now(),
        )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            unit_id=unit.id,
            action="ballot.decided_by_secretariat",
            ballot=info.ballot.id,
            tied=tied,
        )
        await uow.commit()
    await tell_screens(services, bloc_id, "decided", ballot=info.ballot.id)
    return Decided(_ballot_context(info, number, names, bloc), unit)


def _result_json(result: TallyResult) -> dict[str, Any]:
    return {
        "issued": result.issued,
        "returned": result.returned,
        "valid": result.valid,
        "invalid": result.invalid,
        "blank": result.blank,
        "base": result.base.value,
        "base_count": result.base_count,
        "options": [
            {
                "index": r.option.index,
                "unit": r.option.unit_id,
                "kind": r.option.kind.value,
                "votes": r.votes,
                "percent_tenths": r.percent_tenths,
                "passes": r.passes,
            }
            for r in result.options
        ],
        "winners": [o.index for o in result.winners],
        "tie": [o.index for o in result.tie],
        "fewer_than_quota": result.fewer_than_quota,
    }


def _result_context(
    info: BallotInfo,
    number: int,
    names: dict[int, str],
    bloc: Bloc,
    result: TallyResult,
    decided: list[int],
    decided_by: str,
    runoff: BallotLine | None,
    awaiting: tuple[int, ...],
    tie: tuple[Option, ...],
    other_opinions: list[dict[str, str]],
    receipts: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "ballot": _ballot_context(info, number, names, bloc),
        "issued": result.issued,
        "returned": result.returned,
        "valid": result.valid,
        "invalid": result.invalid,
        "blank": result.blank,
        "base_count": result.base_count,
        "rows": [
            {
                **_option_label(r.option, names),
                "votes": r.votes,
                "percent_tenths": r.percent_tenths,
                "passes": r.passes,
            }
            for r in result.options
        ],
        "decided": [names.get(u, "") for u in decided],
        "decided_by": decided_by,
        "fewer_than_quota": result.fewer_than_quota,
        "quota": info.quota,
        "approved": bool(result.winners)
        and info.ballot.kind in (BallotKind.APPROVE_REPORT, BallotKind.YES_NO),
        "tie": [names.get(o.unit_id, "") for o in tie if o.unit_id],
        "tie_votes": next((r.votes for r in result.options if r.option in tie), 0),
        "tie_percent": next((r.percent_tenths for r in result.options if r.option in tie), 0),
        "seats_left": max(info.quota - len(result.winners), 1) if tie else 0,
        "runoff_number": runoff.number if runoff else None,
        "awaiting": [names.get(u, "") for u in awaiting],
        "other_opinions": other_opinions,
        "receipts": _receipt_rows(info, receipts, names),
    }


def _receipt_rows(
    info: BallotInfo, receipts: list[dict[str, Any]], names: dict[int, str]
) -> list[dict[str, Any]]:
    """Published receipt -> choice (a bloc's opt-in), with the chosen options' labels."""
    return [
        {
            "receipt": r["receipt"],
            "blank": bool(r["blank"]),
            "options": [
                _option_label(o, names) for o in info.ballot.options if o.index in r["options"]
            ],
        }
        for r in receipts
    ]


def parse_choice_text(text: str) -> Choice | None:
    """A written vote typed by the secretariat: option numbers "1, 3" or "trắng" (blank)."""
    words = clean(text).casefold()
    if words in {"trắng", "trang", "blank", "phiếu trắng", "phieu trang"}:
        return Choice(blank=True)
    parts = [p for p in words.replace(";", ",").split(",") if p.strip()]
    if not parts or not all(p.strip().isdecimal() for p in parts):
        return None
    return Choice(tuple(int(p) - 1 for p in parts))


async def written_vote(
    services: Services, actor: Actor, *, ref: str, unit_ref: str, choice_text: str
) -> Accepted | Rejected:
    """The secretariat records the written vote of a unit with no reachable representative
    (open ballots only; audited and marked written)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    choice = parse_choice_text(choice_text)
    if choice is None:
        return Rejected(Reason.BAD_CHOICE, {"value": clean(choice_text)})
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        picked = await _pick(uow, bloc_id, ref, lock=True)
        if isinstance(picked, Rejected):
            return picked
        info, number = picked
        if info.ballot.rules.secret:
            return Rejected(Reason.SECRET_NO_WRITTEN)
        units = await uow.blocs.units(bloc_id)
        unit = pick_unit(units, unit_ref)
        if isinstance(unit, Rejected):
            return unit
        names = {u.id: u.name for u in units}
        problem = check_cast(
            info.ballot,
            voter_unit_id=unit.id,
            is_observer=False,
            choice=choice,
            now=now,
            eligible_unit_ids=frozenset(names),
            already_cast=False,
        )
        if problem is not None:
            return Rejected(
                Reason.CAST, {"why": problem.value, "max": info.ballot.rules.max_choices}
            )
        if await uow.votes.vote_row_written(info.ballot.id, unit.id) is False:
            # The unit voted itself in chat: a written vote is only for units that could not.
            return Rejected(Reason.UNIT_VOTED_IN_CHAT, {"unit": unit.name})
        replaced = await uow.votes.put_open_vote(
            info.ballot.id, unit.id, actor.identity.id, choice, now=now, written=True
        )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            unit_id=unit.id,
            action="vote.written",
            ballot=info.ballot.id,
            choice=list(choice.options),
            blank=choice.blank,
            replaced=replaced,
        )
        view = await _view(uow, services, actor, info, number, bloc, unit, names, pending=choice)
        await uow.commit()
    await tell_screens(services, bloc_id, "cast", ballot=info.ballot.id)
    return Accepted(view, replaced)


@dataclass(frozen=True, slots=True)
class RecordOut:
    context: dict[str, Any]  # the result as the chat shows it
    docx: bytes
    filename: str


async def vote_record(
    services: Services, actor: Actor, *, ref: str, locale: str
) -> RecordOut | Rejected:
    """The biên bản kiểm phiếu of a counted ballot: text and DOCX, with the audit head."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        picked = await _pick(uow, bloc_id, ref)
        if isinstance(picked, Rejected):
            return picked
        info, number = picked
        stored = await uow.votes.result(info.ballot.id)
        if stored is None:
            return Rejected(Reason.BALLOT_NOT_CLOSED, {"number": number})
        conference = await uow.votes.conference(bloc_id, bloc.year)
        units = await uow.blocs.units(bloc_id)
        _, head = await uow.audit.head(bloc_id)
        every = await numbered(uow, bloc_id)
        runoff_number = next((n for n, other in every if other.runoff_of == info.ballot.id), None)
        sequence = record_sequence(every, info.conference_id, info.ballot.id)
    context, record = record_parts(
        services.renderer,
        locale,
        bloc=bloc,
        conference=conference,
        info=info,
        number=number,
        stored=stored,
        names={u.id: u.name for u in units},
        head=head,
        runoff_number=runoff_number,
        now=services.clock.now(),
        record_number=sequence,
    )
    render = services.renderer
    docx = vote_record_docx(record, lambda key: render.t(locale, key), locale=Locale(locale).value)
    filename = render.t(locale, "record.filename").format(number=f"{sequence or number:02d}")
    return RecordOut(context, docx, filename)


def counted_context(
    info: BallotInfo,
    number: int,
    stored: tuple[dict[str, Any], list[int], str],
    names: dict[int, str],
    bloc: Bloc,
    *,
    runoff_number: int | None,
) -> dict[str, Any]:
    """A counted ballot's result as the count stored it (`ballot_result`), as the chat, the
    record and the hall screen show it: nothing here is counted again."""
    data, decided, decided_by = stored
    rows = [
        {
            **_option_label(o, names),
            "votes": r["votes"],
            "percent_tenths": r["percent_tenths"],
            "passes": r["passes"],
        }
        for r in data["options"]
        for o in info.ballot.options
        if o.index == r["index"]
    ]
    tie_units = [
        names.get(o.unit_id, "")
        for o in info.ballot.options
        if o.index in data.get("tie", []) and o.unit_id
    ]
    # Where the tie was: the tied units' common votes, and the places they were tied for.
    tied_rows = [r for r in data["options"] if r["index"] in data.get("tie", [])]
    tie_votes = tied_rows[0]["votes"] if tied_rows else 0
    tie_percent = tied_rows[0]["percent_tenths"] if tied_rows else 0
    winners = len(data.get("winners", []))
    return {
        "ballot": _ballot_context(info, number, names, bloc),
        "issued": data["issued"],
        "returned": data["returned"],
        "valid": data["valid"],
        "invalid": data["invalid"],
        "blank": data["blank"],
        "base_count": data["base_count"],
        "rows": rows,
        "decided": [names.get(u, "") for u in decided],
        "decided_by": decided_by,
        "fewer_than_quota": data["fewer_than_quota"],
        "quota": info.quota,
        "approved": bool(data["winners"])
        and info.ballot.kind in (BallotKind.APPROVE_REPORT, BallotKind.YES_NO),
        "tie": tie_units,
        "tie_votes": tie_votes,
        "tie_percent": tie_percent,
        "seats_left": max(info.quota - winners, 1) if tie_units else 0,
        "runoff_number": runoff_number,
        "awaiting": [names.get(int(u), "") for u in data.get("awaiting", [])],
        "other_opinions": data.get("other_opinions", []),
        "receipts": _receipt_rows(info, data.get("receipts", []), names),
    }


def record_parts(
    render: Renderer,
    locale: str,
    *,
    bloc: Bloc,
    conference: Conference | None,
    info: BallotInfo,
    number: int,
    stored: tuple[dict[str, Any], list[int], str],
    names: dict[int, str],
    head: str,
    runoff_number: int | None,
    now: datetime,
    record_number: int | None = None,
) -> tuple[dict[str, Any], VoteRecord]:
    """The result of a counted ballot as the chat shows it, and its biên bản kiểm phiếu
    (document text is plain: names as typed, never HTML-escaped). `record_number`: the
    record's place among the conference's counted ballots (:func:`record_sequence`); the
    record is dated with the conference, the count's own time stated in its body."""
    context = counted_context(info, number, stored, names, bloc, runoff_number=runoff_number)
    data = stored[0]
    rows = context["rows"]
    record = VoteRecord(
        issuer=bloc.name,
        number=f"{record_number or number:02d}/BBKP-{bloc.code}",  # 01/BB-… is the minutes
        locality=conference.locality if conference else "",
        when=info.ballot.closes_at or now,
        timezone=bloc.timezone,
        subject=render.plain(locale, "record_subject", ballot=context["ballot"]),
        place=conference.place if conference else "",
        counting_board=conference.counting_board if conference else (),
        issued=data["issued"],
        returned=data["returned"],
        valid=data["valid"],
        invalid=data["invalid"],
        blank=data["blank"],
        base_label=render.t(locale, f"base.{info.ballot.rules.base.value}"),
        base_count=data["base_count"],
        threshold=(
            info.ballot.rules.threshold.label()
            if info.runoff_of is None
            else render.t(locale, "record.runoff_threshold")
        ),
        rows=tuple(
            RecordRow(
                r["unit"] if r["kind"] == "unit" else render.t(locale, f"option.{r['kind']}"),
                r["votes"],
                r["percent_tenths"],
                r["passes"],
            )
            for r in rows
        ),
        conclusion=render.plain(locale, "record_conclusion", **context),
        audit_head=head,
        dated=conference.held_at if conference else None,
        chair=bare_name(conference.chair) if conference else "",
    )
    return context, record


def in_minutes_order(
    every: Sequence[tuple[int, BallotInfo]],
) -> list[tuple[int, BallotInfo]]:
    """Ballots as the minutes and their records take them: /ballot order, each run-off right
    after the ballot it re-runs (a run-off's own run-off after it), not at the end where its
    later number puts it."""
    known = {info.ballot.id for _, info in every}
    runoffs: dict[int, list[tuple[int, BallotInfo]]] = {}
    for item in every:
        if item[1].runoff_of in known:
            runoffs.setdefault(item[1].runoff_of or 0, []).append(item)
    ordered: list[tuple[int, BallotInfo]] = []
    pending = [item for item in reversed(every) if item[1].runoff_of not in known]
    while pending:
        item = pending.pop()
        ordered.append(item)
        pending += reversed(runoffs.get(item[1].ballot.id, []))
    return ordered


def record_sequence(
    every: Sequence[tuple[int, BallotInfo]], conference_id: int | None, ballot_id: int
) -> int | None:
    """A counted ballot's vote-count record number: its place among its conference's counted
    ballots in the minutes' order (a cancelled or uncounted ballot leaves no gap)."""
    if conference_id is None:
        return None
    counted = [
        info.ballot.id
        for _, info in in_minutes_order(every)
        if info.conference_id == conference_id and info.ballot.status is BallotStatus.CLOSED
    ]
    return counted.index(ballot_id) + 1 if ballot_id in counted else None


# --- secret ballots: marking, receipts, turnout ------------------------------------------------


async def set_secret(
    services: Services, actor: Actor, *, ref: str, secret: bool
) -> dict[str, Any] | Rejected:
    """/ballot secret N; on|off: a ballot not yet opened becomes secret or open."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        picked = await _pick(uow, bloc_id, ref, lock=True)
        if isinstance(picked, Rejected):
            return picked
        info, number = picked
        if info.ballot.status is not BallotStatus.DRAFT:
            return Rejected(Reason.BALLOT_NOT_DRAFT, {"number": number})
        rules = replace(info.ballot.rules, secret=secret)
        await uow.votes.set_rules(info.ballot.id, rules)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="ballot.secret_set",
            ballot=info.ballot.id,
            secret=secret,
        )
        updated = await uow.votes.ballot(info.ballot.id)
        assert updated is not None
        names = {u.id: u.name for u in await uow.blocs.units(bloc_id)}
        await uow.commit()
    return _ballot_context(updated, number, names, bloc)


# --- candidates: the units a ballot not yet opened puts to the vote ---------------------------


@dataclass(frozen=True, slots=True)
class Candidates:
    ballot: dict[str, Any]
    units: tuple[Unit, ...]  # every unit of the bloc, in its order
    chosen: frozenset[int]  # the ballot's unit options now


def _unit_ballot(info: BallotInfo) -> bool:
    """A ballot whose candidates are units (an award tier, the leader, the deputy)."""
    return any(o.kind is OptionKind.UNIT for o in info.ballot.options)


async def _candidates_of(
    uow: UnitOfWork, bloc_id: int, ref: str, *, lock: bool = False
) -> tuple[BallotInfo, int, Bloc, list[Unit]] | Rejected:
    bloc = await uow.blocs.require(bloc_id)
    picked = await _pick(uow, bloc_id, ref, lock=lock)
    if isinstance(picked, Rejected):
        return picked
    info, number = picked
    if info.ballot.status is not BallotStatus.DRAFT:
        return Rejected(Reason.BALLOT_NOT_DRAFT, {"number": number})
    if not _unit_ballot(info):
        return Rejected(Reason.NOT_UNIT_BALLOT, {"number": number})
    return info, number, bloc, await uow.blocs.units(bloc_id)


async def candidates(services: Services, actor: Actor, *, ref: str) -> Candidates | Rejected:
    """The units a ballot not yet opened may put to the vote, those it puts now checked."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        found = await _candidates_of(uow, bloc_id, ref)
    if isinstance(found, Rejected):
        return found
    info, number, bloc, units = found
    names = {u.id: u.name for u in units}
    chosen = frozenset(o.unit_id for o in info.ballot.options if o.unit_id is not None)
    return Candidates(_ballot_context(info, number, names, bloc), tuple(units), chosen)


async def set_candidates(
    services: Services, actor: Actor, *, ref: str, unit_ids: list[str]
) -> dict[str, Any] | Rejected:
    """The secretariat chooses a ballot's candidate units before it opens: its unit options
    become those units (in the bloc's order), its other options stay after them; at least as
    many as a representative may choose."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        found = await _candidates_of(uow, bloc_id, ref, lock=True)
        if isinstance(found, Rejected):
            return found
        info, number, bloc, units = found
        wanted = {int(u) for u in unit_ids if u.strip().isdecimal()}
        chosen = [u for u in units if u.id in wanted]
        least = max(1, info.ballot.rules.max_choices)
        if len(chosen) < least:
            return Rejected(
                Reason.TOO_FEW_CANDIDATES,
                {"number": number, "count": len(chosen), "least": least},
            )
        others = [o for o in info.ballot.options if o.kind is not OptionKind.UNIT]
        options = [Option(0, OptionKind.UNIT, u.id) for u in chosen] + others
        await uow.votes.set_options(
            info.ballot.id,
            [Option(i, o.kind, o.unit_id, o.label) for i, o in enumerate(options)],
        )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="ballot.candidates",
            ballot=info.ballot.id,
            units=[u.id for u in chosen],
        )
        updated = await uow.votes.ballot(info.ballot.id)
        assert updated is not None
        await uow.commit()
    return _ballot_context(updated, number, {u.id: u.name for u in units}, bloc)


@dataclass(frozen=True, slots=True)
class ReceiptOut:
    receipt: str
    bloc: str
    found: sealed.ReceiptFound | None
    ballot: dict[str, Any] | None
    choice: dict[str, Any] | None  # only where the bloc publishes receipt -> choice


async def check_receipt(services: Services, actor: Actor, *, typed: str) -> ReceiptOut | Rejected:
    """/vote -> "Kiểm tra phiếu": was the ballot with this receipt code counted? Every bloc
    of the person is searched, the current one first (a receipt names no bloc)."""
    current = actor.current_bloc_id
    if current is None or actor.membership(current) is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    order = [current, *(m.bloc_id for m in actor.memberships if m.bloc_id != current)]
    receipt = ""
    async with services.db.uow() as uow:
        home = await uow.blocs.require(current)
        for bloc_id in order:
            checked = await sealed.check_receipt(uow, services, bloc_id, typed)
            if isinstance(checked, Rejected):
                return checked
            receipt, found = checked.receipt, checked.found
            if found is None:
                continue
            bloc = await uow.blocs.require(bloc_id)
            number, info = next(
                (n, b) for n, b in await numbered(uow, bloc_id) if b.ballot.id == found.ballot_id
            )
            names = {u.id: u.name for u in await uow.blocs.units(bloc_id)}
            choice = None
            if found.published is not None:
                choice = _receipt_rows(info, [found.published], names)[0]
            context = _ballot_context(info, number, names, bloc)
            return ReceiptOut(receipt, bloc.name, found, context, choice)
    return ReceiptOut(receipt, home.name, None, None, None)


async def has_secret_ballots(services: Services, actor: Actor) -> bool:
    """Whether /vote offers "Kiểm tra phiếu": the bloc has an open or counted secret ballot."""
    bloc_id = actor.current_bloc_id
    if bloc_id is None or actor.membership(bloc_id) is None:
        return False
    async with services.db.uow() as uow:
        return any(
            info.ballot.rules.secret
            and info.ballot.status in (BallotStatus.OPEN, BallotStatus.CLOSED)
            for info in await uow.votes.ballots(bloc_id)
        )


@dataclass(frozen=True, slots=True)
class GroupTurnout:
    bloc: Bloc
    rows: list[dict[str, Any]]
    units: int


async def group_turnout(services: Services, chat_id: int) -> GroupTurnout | None:
    """/vote in the bloc's group: the open ballots and how many units have voted — turnout
    only, never a partial result (secret or not)."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.by_group_chat(chat_id)
        if bloc is None:
            return None
        units = await uow.blocs.units(bloc.id)
        rows = await open_turnout(uow, bloc, now)
    return GroupTurnout(bloc, rows, len(units))


async def bloc_turnout(services: Services, actor: Actor) -> GroupTurnout | Rejected:
    """The open ballots of the person's bloc and how many units have voted, for anyone of the
    bloc (an observer, a secretariat member without a unit): turnout only, as the group sees
    it, never a partial result."""
    bloc_id = actor.current_bloc_id
    if bloc_id is None or actor.membership(bloc_id) is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        units = await uow.blocs.units(bloc.id)
        rows = await open_turnout(uow, bloc, now)
    return GroupTurnout(bloc, rows, len(units))


async def open_turnout(uow: UnitOfWork, bloc: Bloc, now: datetime) -> list[dict[str, Any]]:
    """The ballots open for casting now, each with how many units have voted (never more)."""
    names = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
    rows = []
    for number, info in await numbered(uow, bloc.id):
        if _status_problem(info, now) is not None:
            continue
        rows.append(
            {
                **_ballot_context(info, number, names, bloc),
                "cast": await uow.votes.cast_count(info.ballot.id),
            }
        )
    return rows


async def ballot_context(uow: UnitOfWork, ballot_id: int, bloc: Bloc) -> dict[str, Any] | None:
    """A ballot as templates describe it (for reminders and other notices)."""
    found = next(
        ((n, b) for n, b in await numbered(uow, bloc.id) if b.ballot.id == ballot_id), None
    )
    if found is None:
        return None
    names = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
    return _ballot_context(found[1], found[0], names, bloc)


# --- the hall screen: what the projector shows ---------------------------------------------


@dataclass(frozen=True, slots=True)
class ScreenState:
    """The conference as the hall sees it: presence and quorum, the ballots open now with
    their turnout, and the last counted result (as the count stored it; never before it)."""

    view: ConferenceView
    open: tuple[BallotLine, ...]
    counted: dict[str, Any] | None


async def screen_state(
    uow: UnitOfWork, bloc: Bloc, conference: Conference, now: datetime
) -> ScreenState:
    view = await _conference_view(uow, bloc, conference)
    open_now = tuple(line for line in view.ballots if _status_problem(line.info, now) is None)
    closed = [
        line
        for line in view.ballots
        if line.info.ballot.status is BallotStatus.CLOSED and line.info.ballot.closes_at
    ]
    counted: dict[str, Any] | None = None
    if closed:
        last = max(closed, key=lambda line: (line.info.ballot.closes_at, line.number))
        stored = await uow.votes.result(last.info.ballot.id)
        if stored is not None:
            names = {u.id: u.name for u in (*view.present, *view.absent)}
            runoff = next(
                (n.number for n in view.ballots if n.info.runoff_of == last.info.ballot.id), None
            )
            counted = counted_context(
                last.info, last.number, stored, names, bloc, runoff_number=runoff
            )
    return ScreenState(view, open_now, counted)


# --- text chats (Zalo): ballots by number, a choice kept between two messages -------------


async def ballot_by_number(services: Services, actor: Actor, typed: str) -> int | Rejected:
    """The ballot a representative names by its number in /vote (this year's conference)."""
    bloc_id = actor.current_bloc_id
    if bloc_id is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    async with services.db.uow() as uow:
        picked = await _pick(uow, bloc_id, typed)
    return picked if isinstance(picked, Rejected) else picked[0].ballot.id


async def option_named(services: Services, *, ballot_id: int, typed: str) -> int | None:
    """The candidate a representative names by its unit's short name or name where a number
    is expected (the bloc's one unit-matching rule), as its option index; None when none."""
    if not clean(typed) or clean(typed).isdecimal():
        return None
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(ballot_id)
        if info is None:
            return None
        units = await uow.blocs.units(info.bloc_id)
    by_unit = {o.unit_id: o.index for o in info.ballot.options if o.unit_id is not None}
    unit = find_unit([u for u in units if u.id in by_unit], typed)
    return None if unit is None else by_unit[unit.id]


async def hold_choice(
    services: Services, actor: Actor, *, ballot_id: int, choice: Choice
) -> str | Rejected:
    """The choice being confirmed, as a token the chat's conversation storage may keep until
    the confirmation: a secret ballot's is sealed under the ballot key and bound to the
    person (decision 4: no choice in conversation storage); an open ballot's is plain."""
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(ballot_id)
        if info is None:
            return Rejected(Reason.UNKNOWN_BALLOT, {"value": str(ballot_id)})
        if not info.ballot.rules.secret:
            return "o:" + json.dumps(
                {"o": list(choice.options), "b": choice.blank, "t": choice.other_text}
            )
        keys = await sealed.keys_for(uow, services, ballot_id)
    if isinstance(keys, Rejected):
        return keys
    token = seal_pending(keys, actor.identity.id, choice, len(info.ballot.options))
    return "s:" + base64.urlsafe_b64encode(token).decode()


async def held_choice(
    services: Services, actor: Actor, *, ballot_id: int, token: str
) -> Choice | Rejected:
    """The choice a token from :func:`hold_choice` holds (refused if it was not made for this
    ballot and person)."""
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(ballot_id)
        if info is None:
            return Rejected(Reason.UNKNOWN_BALLOT, {"value": str(ballot_id)})
        secret = info.ballot.rules.secret
        keys = await sealed.keys_for(uow, services, ballot_id) if secret else None
    if isinstance(keys, Rejected):
        return keys
    return _unhold(info, keys, actor.identity.id, token)


def _unhold(
    info: BallotInfo, keys: BallotKeys | None, identity_id: int, token: str
) -> Choice | Rejected:
    """The choice in a :func:`hold_choice` token, if it was made for this ballot and person."""
    kind, _, body = token.partition(":")
    try:
        if keys is not None and kind == "s":
            raw = base64.urlsafe_b64decode(body.encode())
            return open_pending(keys, identity_id, raw, len(info.ballot.options))
        if keys is None and kind == "o":
            data = json.loads(body)
            return Choice(
                tuple(int(i) for i in data["o"]), blank=bool(data["b"]), other_text=str(data["t"])
            )
    except (SealError, ValueError, KeyError, TypeError):
        pass
    return Rejected(Reason.SELECTION_CHANGED)
