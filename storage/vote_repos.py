"""Repositories for conferences, attendance, ballots, options, open votes and results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import HandedOut
from bot.core.voting import (
    Ballot,
    BallotKind,
    BallotStatus,
    Base,
    Cast,
    Choice,
    Option,
    OptionKind,
    Rules,
    Threshold,
)
from storage.tables import (
    AttendanceRow,
    BallotOptionRow,
    BallotResultRow,
    BallotRow,
    ConferenceRow,
    OpenVoteRow,
    SecretRegisterRow,
    VoteDraftRow,
)


def _id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("row has no id yet: flush before reading it")
    return value


@dataclass(frozen=True, slots=True)
class Conference:
    id: int
    bloc_id: int
    year: int
    held_at: datetime
    place: str
    chair_unit_id: int | None
    chair: str
    secretary: str
    counting_board: tuple[str, ...]
    guests: str
    locality: str = ""
    summary_movements: str = ""
    summary_closing: str = ""
    venue_checkin: bool | None = None  # None: on when there is a place (core.venue)
    chair_title: str = ""
    signer: str = ""  # who signs the memo for the bloc (the leader unit's head); "": the chair
    signer_title: str = ""
    deputy: str = ""  # the deputy unit's representative (the minutes name the role)
    deputy_title: str = ""
    ended_at: datetime | None = None  # entered by the secretary; None: the last event's time
    launch: str = ""  # the launch of next year's movement (phát động thi đua)
    delegations: str = ""  # groups of delegates beyond the member units, one per line
    handed_out: tuple[HandedOut, ...] = ()
    discussion: tuple[tuple[str, str], ...] = ()  # agenda item key -> the secretary's text


@dataclass(frozen=True, slots=True)
class BallotInfo:
    """A ballot with what the chat shows around it (title, tier, quota, run-off link)."""

    ballot: Ballot
    bloc_id: int
    conference_id: int | None
    title: str
    tier: str | None
    tier_order: int
    quota: int
    runoff_of: int | None
    cancelled_reason: str | None
    publish_receipts: bool = False  # secret: receipt -> choice published after the count


def rules_json(rules: Rules) -> str:
    def threshold(t: Threshold) -> dict[str, Any]:
        return {"n": t.numerator, "d": t.denominator, "strict": t.strict}

    return json.dumps(
        {
            "threshold": threshold(rules.threshold),
            "base": rules.base.value,
            "max_choices": rules.max_choices,
            "self_vote": rules.self_vote,
            "secret": rules.secret,
            "quorum": threshold(rules.quorum),
        },
        sort_keys=True,
    )


def _rules(text: str) -> Rules:
    data = json.loads(text)

    def threshold(d: dict[str, Any]) -> Threshold:
        return Threshold(int(d["n"]), int(d["d"]), strict=bool(d["strict"]))

    return Rules(
        threshold=threshold(data["threshold"]),
        base=Base(data["base"]),
        max_choices=int(data["max_choices"]),
        self_vote=bool(data["self_vote"]),
        secret=bool(data["secret"]),
        quorum=threshold(data["quorum"]),
    )


BALLOT: Table = BallotRow.__table__  # type: ignore[attr-defined]
OPTION: Table = BallotOptionRow.__table__  # type: ignore[attr-defined]
# A ballot's number in the chat: its place among its conference's ballots. Built once: an
# alias of a table is a few hundred objects in reference cycles, and every tap and cast
# reads its ballot numbered.
_EARLIER = BALLOT.alias("earlier")
_NUMBER = (
    sa_select(func.count())
    .where(
        _EARLIER.c.bloc_id == BALLOT.c.bloc_id,
        _EARLIER.c.conference_id.is_not_distinct_from(BALLOT.c.conference_id),
        _EARLIER.c.id <= BALLOT.c.id,
    )
    .scalar_subquery()
    .label("number")
)
# Units that have voted on a ballot: open votes, or the register of a secret ballot (built
# once: every cast counts its turnout).
_OPEN_VOTES, _REGISTERED = (
    select(func.count())
    .select_from(table)
    .where(table.ballot_id == bindparam("ballot"))
    .scalar_subquery()
    for table in (OpenVoteRow, SecretRegisterRow)
)
_CAST_COUNT = select(_OPEN_VOTES + _REGISTERED)


def _ballot_info(
    row: BallotRow | Row[Any], options: Sequence[BallotOptionRow | Row[Any]]
) -> BallotInfo:
    ballot = Ballot(
        id=_id(row.id),
        kind=BallotKind(row.kind),
        options=tuple(Option(o.position, OptionKind(o.kind), o.unit_id, o.label) for o in options),
        rules=_rules(row.rules),
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        status=BallotStatus(row.status),
    )
    return BallotInfo(
        ballot=ballot,
        bloc_id=row.bloc_id,
        conference_id=row.conference_id,
        title=row.title,
        tier=row.tier,
        tier_order=row.tier_order,
        quota=row.quota,
        runoff_of=row.runoff_of,
        cancelled_reason=row.cancelled_reason,
        publish_receipts=row.publish_receipts,
    )


def _conference(row: ConferenceRow) -> Conference:
    return Conference(
        id=_id(row.id),
        bloc_id=row.bloc_id,
        year=row.year,
        held_at=row.held_at,
        place=row.place,
        chair_unit_id=row.chair_unit_id,
        chair=row.chair,
        secretary=row.secretary,
        counting_board=tuple(json.loads(row.counting_board)),
        guests=row.guests,
        locality=row.locality,
        summary_movements=row.summary_movements,
        summary_closing=row.summary_closing,
        venue_checkin=row.venue_checkin,
        chair_title=row.chair_title,
        signer=row.signer,
        signer_title=row.signer_title,
        deputy=row.deputy,
        deputy_title=row.deputy_title,
        ended_at=row.ended_at,
        launch=row.launch,
        delegations=row.delegations,
        handed_out=handed_out_of(row.handed_out),
        discussion=tuple((str(k), str(v)) for k, v in json.loads(row.discussion).items()),
    )


def handed_out_of(text: str) -> tuple[HandedOut, ...]:
    return tuple(
        HandedOut(
            by=str(a["by"]),
            form=str(a["form"]),
            collectives=int(a.get("collectives", 0)),
            individuals=int(a.get("individuals", 0)),
            households=int(a.get("households", 0)),
            names=tuple(str(n) for n in a.get("names", ())),
        )
        for a in json.loads(text)
    )


def handed_out_json(awards: Sequence[HandedOut]) -> str:
    return json.dumps(
        [
            {
                "by": a.by,
                "form": a.form,
                "collectives": a.collectives,
                "individuals": a.individuals,
                "households": a.households,
                "names": list(a.names),
            }
            for a in awards
        ],
        ensure_ascii=False,
    )


# Set by `/summary awards`, `/summary launch`, `/minutes discussion` and the console's summary
# page (services hall_record, minutes): `/conference new` again leaves them as they are.
HALL_RECORD = frozenset({"launch", "handed_out", "discussion"})


def _conference_columns(conference: Conference) -> dict[str, Any]:
    """What `/conference new` and the console's form set (everything but the summary's
    paragraphs and the venue setting, which have their own commands)."""
    c = conference
    return {
        "held_at": c.held_at,
        "place": c.place,
        "chair_unit_id": c.chair_unit_id,
        "chair": c.chair,
        "secretary": c.secretary,
        "counting_board": json.dumps(list(c.counting_board), ensure_ascii=False),
        "guests": c.guests,
        "locality": c.locality,
        "chair_title": c.chair_title,
        "signer": c.signer,
        "signer_title": c.signer_title,
        "deputy": c.deputy,
        "deputy_title": c.deputy_title,
        "ended_at": c.ended_at,
        "launch": c.launch,
        "delegations": c.delegations,
        "handed_out": handed_out_json(c.handed_out),
        "discussion": json.dumps(dict(c.discussion), ensure_ascii=False),
    }


class VoteRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    # --- conference and attendance ------------------------------------------------------

    async def add_conference(
        self, conference: Conference, *, created_by: int, now: datetime
    ) -> Conference:
        row = ConferenceRow(
            bloc_id=conference.bloc_id,
            year=conference.year,
            **_conference_columns(conference),
            created_by=created_by,
            created_at=now,
        )
        self.s.add(row)
        await self.s.flush()
        return _conference(row)

    async def update_conference(self, conference: Conference) -> Conference:
        """`/conference new` again in the same year corrects the conference: its check-ins,
        ballots and paragraphs stay with it."""
        row = await self.s.get_one(ConferenceRow, conference.id)
        for name, value in _conference_columns(conference).items():
            if name not in HALL_RECORD:
                setattr(row, name, value)
        await self.s.flush()
        return _conference(row)

    async def set_hall_record(
        self,
        conference_id: int,
        *,
        handed_out: Sequence[HandedOut] | None = None,
        launch: str | None = None,
    ) -> None:
        """The awards handed out and the launch: their own commands set them."""
        row = await self.s.get_one(ConferenceRow, conference_id)
        if handed_out is not None:
            row.handed_out = handed_out_json(handed_out)
        if launch is not None:
            row.launch = launch

    async def set_discussion(
        self, conference_id: int, discussion: Sequence[tuple[str, str]]
    ) -> None:
        """The secretary's discussion text per agenda item (for the minutes): only that."""
        row = await self.s.get_one(ConferenceRow, conference_id)
        row.discussion = json.dumps(dict(discussion), ensure_ascii=False)

    async def set_summary_text(
        self, conference_id: int, *, movements: str | None = None, closing: str | None = None
    ) -> None:
        row = await self.s.get_one(ConferenceRow, conference_id)
        if movements is not None:
            row.summary_movements = movements
        if closing is not None:
            row.summary_closing = closing

    async def conference_by_id(self, conference_id: int) -> Conference | None:
        row = await self.s.get(ConferenceRow, conference_id)
        return None if row is None else _conference(row)

    async def conference(
        self, bloc_id: int, year: int, *, lock: bool = False
    ) -> Conference | None:
        query = (
            select(ConferenceRow)
            .where(ConferenceRow.bloc_id == bloc_id, ConferenceRow.year == year)
            .order_by(col(ConferenceRow.id).desc())
        )
        if lock:  # a read-modify-write of its JSON lists: one at a time
            query = query.with_for_update().execution_options(populate_existing=True)
        row = (await self.s.exec(query)).first()
        return None if row is None else _conference(row)

    async def check_in(
        self, conference_id: int, unit_id: int, identity_id: int, now: datetime
    ) -> bool:
        """Record the unit present; False when it had already checked in."""
        existing = (
            await self.s.exec(
                select(AttendanceRow).where(
                    AttendanceRow.conference_id == conference_id,
                    AttendanceRow.unit_id == unit_id,
                )
            )
        ).first()
        if existing is not None:
            return False
        self.s.add(
            AttendanceRow(
                conference_id=conference_id,
                unit_id=unit_id,
                identity_id=identity_id,
                checked_in_at=now,
            )
        )
        await self.s.flush()
        return True

    async def is_present(self, conference_id: int, unit_id: int) -> bool:
        row = (
            await self.s.exec(
                select(AttendanceRow.id).where(
                    AttendanceRow.conference_id == conference_id,
                    AttendanceRow.unit_id == unit_id,
                )
            )
        ).first()
        return row is not None

    async def set_venue_checkin(self, conference_id: int, on: bool | None) -> None:
        row = await self.s.get_one(ConferenceRow, conference_id)
        row.venue_checkin = on
        self.s.add(row)
        await self.s.flush()

    async def present(self, conference_id: int) -> set[int]:
        rows = await self.s.exec(
            select(AttendanceRow.unit_id).where(AttendanceRow.conference_id == conference_id)
        )
        return set(rows.all())

    # --- ballots --------------------------------------------------------------------------

    async def add_ballot(
        self,
        *,
        bloc_id: int,
        conference_id: int | None,
        kind: BallotKind,
        title: str,
        rules: Rules,
        options: list[Option],
        tier: str | None,
        tier_order: int,
        quota: int,
        runoff_of: int | None,
        closes_at: datetime | None,
        created_by: int | None,
        now: datetime,
    ) -> BallotInfo:
        row = BallotRow(
            bloc_id=bloc_id,
            conference_id=conference_id,
            kind=kind.value,
            title=title,
            tier=tier,
            tier_order=tier_order,
            quota=quota,
            rules=rules_json(rules),
            status=BallotStatus.DRAFT.value,
            runoff_of=runoff_of,
            closes_at=closes_at,
            created_by=created_by,
            created_at=now,
        )
        self.s.add(row)
        await self.s.flush()
        await self.set_options(_id(row.id), options)
        info = await self.ballot(_id(row.id))
        assert info is not None
        return info

    async def set_options(self, ballot_id: int, options: list[Option]) -> None:
        await self.s.exec(
            delete(BallotOptionRow).where(col(BallotOptionRow.ballot_id) == ballot_id)
        )
        self.s.add_all(
            BallotOptionRow(
                ballot_id=ballot_id,
                position=o.index,
                kind=o.kind.value,
                unit_id=o.unit_id,
                label=o.label,
            )
            for o in options
        )
        await self.s.flush()

    async def ballot(
        self, ballot_id: int, *, lock: bool = False, shared: bool = False
    ) -> BallotInfo | None:
        """A ballot; `lock` holds its row to the end of the transaction (`shared`: against a
        close, not against other shared holders such as taps of other units)."""
        found = await self._ballot(ballot_id, lock=lock, shared=shared, numbered=False)
        return None if found is None else found[0]

    async def numbered_ballot(
        self, ballot_id: int, *, lock: bool = False, shared: bool = False
    ) -> tuple[BallotInfo, int] | None:
        """A ballot and its number in the chat: its place among its conference's ballots
        (each year's conference numbers from 1), as `voting.numbered` counts them."""
        return await self._ballot(ballot_id, lock=lock, shared=shared, numbered=True)

    async def _ballot(
        self, ballot_id: int, *, lock: bool, shared: bool, numbered: bool
    ) -> tuple[BallotInfo, int] | None:
        # Plain rows through the session's connection, not tracked objects (every tap and cast
        # reads its ballot): flushed first, since a Core query does not autoflush, so this
        # session's own changes are seen; and never a stale copy from the identity map, which
        # no read of ballots fills (`ballots` reads plain rows too).
        await self.s.flush()
        connection = await self.s.connection()
        columns: list[Any] = [BALLOT, _NUMBER] if numbered else [BALLOT]
        query = sa_select(*columns).where(BALLOT.c.id == ballot_id)
        if lock:
            query = query.with_for_update(read=shared, of=BALLOT)
        row = (await connection.execute(query)).first()
        if row is None:
            return None
        options = await connection.execute(
            sa_select(OPTION).where(OPTION.c.ballot_id == ballot_id).order_by(OPTION.c.position)
        )
        return _ballot_info(row, options.all()), int(row.number) if numbered else 0

    async def ballots(self, bloc_id: int, conference_id: int | None = None) -> list[BallotInfo]:
        """The bloc's ballots (of one conference) in id order, in two queries."""
        await self.s.flush()
        connection = await self.s.connection()
        query = sa_select(BALLOT).where(BALLOT.c.bloc_id == bloc_id)
        if conference_id is not None:
            query = query.where(BALLOT.c.conference_id == conference_id)
        rows = (await connection.execute(query.order_by(BALLOT.c.id))).all()
        if not rows:
            return []
        options: dict[int, list[Row[Any]]] = {}
        found = await connection.execute(
            sa_select(OPTION)
            .where(OPTION.c.ballot_id.in_([r.id for r in rows]))
            .order_by(OPTION.c.ballot_id, OPTION.c.position)
        )
        for option in found.all():
            options.setdefault(option.ballot_id, []).append(option)
        return [_ballot_info(r, options.get(r.id, [])) for r in rows]

    async def set_status(
        self, ballot_id: int, status: BallotStatus, *, now: datetime, reason: str | None = None
    ) -> None:
        row = await self.s.get_one(BallotRow, ballot_id)
        row.status = status.value
        if status is BallotStatus.OPEN:
            row.opens_at = now
        if status is BallotStatus.CLOSED and (row.closes_at is None or row.closes_at > now):
            row.closes_at = now
        if reason is not None:
            row.cancelled_reason = reason

    async def set_rules(self, ballot_id: int, rules: Rules) -> None:
        row = await self.s.get_one(BallotRow, ballot_id)
        row.rules = rules_json(rules)

    async def set_schedule(
        self, ballot_id: int, opens_at: datetime | None, closes_at: datetime | None
    ) -> None:
        """A draft's opening and closing times (None, None clears them)."""
        row = await self.s.get_one(BallotRow, ballot_id)
        row.opens_at = opens_at
        row.closes_at = closes_at

    async def set_closes_at(self, ballot_id: int, closes_at: datetime) -> None:
        row = await self.s.get_one(BallotRow, ballot_id)
        row.closes_at = closes_at

    # --- votes ----------------------------------------------------------------------------

    async def open_vote(self, ballot_id: int, unit_id: int) -> Cast | None:
        row = await self._vote_row(ballot_id, unit_id)
        return None if row is None else _cast(row)

    async def vote_row_written(self, ballot_id: int, unit_id: int) -> bool | None:
        """None when the unit has not voted; else whether its vote was a written one."""
        row = await self._vote_row(ballot_id, unit_id)
        return None if row is None else row.written

    async def _vote_row(self, ballot_id: int, unit_id: int) -> OpenVoteRow | None:
        return (
            await self.s.exec(
                select(OpenVoteRow).where(
                    OpenVoteRow.ballot_id == ballot_id, OpenVoteRow.unit_id == unit_id
                )
            )
        ).first()

    async def put_open_vote(
        self,
        ballot_id: int,
        unit_id: int,
        identity_id: int,
        choice: Choice,
        *,
        now: datetime,
        written: bool = False,
        valid: bool = True,
        exists: bool | None = None,
    ) -> bool:
        """Record (or replace) the unit's open vote; True when it replaced an earlier one.
        `exists`: whether the unit has voted, when the caller read it under the unit's lock
        (one statement instead of two)."""
        if exists:
            await self.s.exec(
                update(OpenVoteRow)
                .where(
                    col(OpenVoteRow.ballot_id) == ballot_id, col(OpenVoteRow.unit_id) == unit_id
                )
                .values(
                    identity_id=identity_id,
                    choice=json.dumps(list(choice.options)),
                    blank=choice.blank,
                    other_text=choice.other_text,
                    written=written,
                    valid=valid,
                    cast_at=now,
                )
            )
            return True
        row = None if exists is False else await self._vote_row(ballot_id, unit_id)
        replaced = row is not None
        if row is None:
            row = OpenVoteRow(
                ballot_id=ballot_id,
                unit_id=unit_id,
                identity_id=identity_id,
                choice="[]",
                cast_at=now,
            )
            self.s.add(row)
        row.identity_id = identity_id
        row.choice = json.dumps(list(choice.options))
        row.blank = choice.blank
        row.other_text = choice.other_text
        row.written = written
        row.valid = valid
        row.cast_at = now
        await self.s.flush()
        return replaced

    async def casts(self, ballot_id: int) -> list[Cast]:
        rows = await self.s.exec(
            select(OpenVoteRow)
            .where(OpenVoteRow.ballot_id == ballot_id)
            .order_by(col(OpenVoteRow.unit_id))
        )
        return [_cast(r) for r in rows.all()]

    async def cast_count(self, ballot_id: int) -> int:
        """Units that have voted: open votes, or the register of a secret ballot."""
        result = await self.s.exec(_CAST_COUNT, params={"ballot": ballot_id})
        return int(result.one())

    async def voted_units(self, ballot_id: int) -> set[int]:
        found: set[int] = set()
        for table in (OpenVoteRow, SecretRegisterRow):
            rows = await self.s.exec(select(table.unit_id).where(table.ballot_id == ballot_id))
            found |= set(rows.all())
        return found

    # --- multi-select drafts ------------------------------------------------------------

    async def draft(
        self, ballot_id: int, unit_id: int, identity_id: int, *, lock: bool = False
    ) -> tuple[tuple[int, ...], int]:
        query = select(VoteDraftRow).where(
            VoteDraftRow.ballot_id == ballot_id,
            VoteDraftRow.unit_id == unit_id,
            VoteDraftRow.identity_id == identity_id,
        )
        if lock:
            query = query.with_for_update()
        row = (await self.s.exec(query)).first()
        if row is None:
            return (), 0
        return tuple(json.loads(row.selection)), row.version

    async def put_draft(
        self,
        ballot_id: int,
        unit_id: int,
        identity_id: int,
        selection: tuple[int, ...],
        now: datetime,
    ) -> int:
        row = (
            await self.s.exec(
                select(VoteDraftRow)
                .where(
                    VoteDraftRow.ballot_id == ballot_id,
                    VoteDraftRow.unit_id == unit_id,
                    VoteDraftRow.identity_id == identity_id,
                )
                .with_for_update()
            )
        ).first()
        if row is None:
            row = VoteDraftRow(
                ballot_id=ballot_id, unit_id=unit_id, identity_id=identity_id, updated_at=now
            )
            self.s.add(row)
        row.selection = json.dumps(sorted(selection))
        row.version += 1
        row.updated_at = now
        await self.s.flush()
        return row.version

    async def delete_drafts(self, ballot_id: int, unit_id: int) -> None:
        await self.s.exec(
            delete(VoteDraftRow).where(
                col(VoteDraftRow.ballot_id) == ballot_id, col(VoteDraftRow.unit_id) == unit_id
            )
        )

    # --- results --------------------------------------------------------------------------

    async def put_result(
        self,
        ballot_id: int,
        result: dict[str, Any],
        decided: list[int],
        decided_by: str,
        now: datetime,
    ) -> None:
        row = await self.s.get(BallotResultRow, ballot_id)
        if row is None:
            row = BallotResultRow(ballot_id=ballot_id, result="{}", computed_at=now)
            self.s.add(row)
        row.result = json.dumps(result, ensure_ascii=False, sort_keys=True)
        row.decided = json.dumps(decided)
        row.decided_by = decided_by
        row.computed_at = now
        await self.s.flush()

    async def result(self, ballot_id: int) -> tuple[dict[str, Any], list[int], str] | None:
        row = await self.s.get(BallotResultRow, ballot_id)
        if row is None:
            return None
        return json.loads(row.result), json.loads(row.decided), row.decided_by


def _cast(row: OpenVoteRow) -> Cast:
    return Cast(
        unit_id=row.unit_id,
        choice=Choice(tuple(json.loads(row.choice)), row.blank, row.other_text),
        valid=row.valid,
    )
