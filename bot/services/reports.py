"""Reports and self-scoring: scoring tables, periods, the submission walk, review, returns.

A representative's submission is prepared in a draft kept in the database (its file, then one
answer per item), so a pause or a restart resumes at the first unanswered item. Confirming
turns the draft into a new version; the latest version counts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core.files import STORED_LIMITS
from bot.core.models import Bloc, Role, Unit
from bot.core.reports import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TYPES,
    KNOWN_TYPES,
    MAX_COMMENT,
    Draft,
    FileProblem,
    LatePolicy,
    Period,
    Submission,
    Timing,
    UnitStatus,
    check_file,
    extension,
    parse_kind,
    parse_local_datetime,
    parse_max_mb,
    parse_policy,
    parse_types,
    resubmit_window,
    timing,
    unit_status,
)
from bot.core.scoring import (
    GroupTotal,
    Item,
    ScoringTable,
    Totals,
    ValueProblem,
    check_value,
    competition_ranks,
    first_unanswered,
    group_totals,
    totals,
)
from bot.core.text import clean
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import last_done, record
from bot.services.exports import ArchiveEntry, ScoreSheet, UnitScoreRow
from bot.services.filecheck import ContentRefused, check_content, parse_checked, parse_problem
from bot.services.notify import queue_notices
from bot.services.outcomes import Notice, Reason, Rejected, pick_unit, refuse_long
from bot.services.scoring_files import TABLE_FILE_KINDS, TableRefused, read_scoring_table
from bot.services.tabular import MAX_FILE_BYTES
from storage.uow import UnitOfWork

SUBMIT = "submit"
REVIEW = "review"
_FILE_REASONS = {
    FileProblem.WRONG_TYPE: Reason.WRONG_TYPE,
    FileProblem.TOO_LARGE: Reason.TOO_LARGE,
    FileProblem.EMPTY: Reason.EMPTY_FILE,
}


def local_to_utc(text: str, tz: str) -> datetime | None:
    """A deadline typed in the bloc's timezone, as a UTC-aware instant."""
    parsed = parse_local_datetime(text)
    if parsed is None:
        return None
    local = datetime(
        parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, tzinfo=ZoneInfo(tz)
    )
    return local.astimezone(UTC)


# --- scoring tables ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableImported:
    version: int
    year: int
    table: ScoringTable
    # The confirm of a preview already saved (a second press, a reload): nothing new stored.
    repeated: bool = False


async def check_table(
    actor: Actor, *, filename: str, data: bytes
) -> ScoringTable | TableRefused | Rejected:
    """A scoring table file read and checked, nothing saved: the table, or why it is refused
    (its rows' problems, or why it could not be read)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    kind = extension(filename)
    if kind not in TABLE_FILE_KINDS:
        return TableRefused(unreadable="type")
    if len(data) > MAX_FILE_BYTES:
        return TableRefused(unreadable="size")
    table = await parse_checked(kind, data, read_scoring_table, filename, data)
    if isinstance(table, TableRefused) and table.unreadable is not None:
        table = parse_problem(kind, table.unreadable) or table
    if isinstance(table, ContentRefused):
        return TableRefused(unreadable="content", file=table)
    return table


async def import_table(
    services: Services, actor: Actor, *, filename: str, data: bytes
) -> TableImported | TableRefused | Rejected:
    """A new version of the bloc's scoring table for its year; a bad table is refused whole."""
    imported = await _import_table(services, actor, filename=filename, data=data, becomes=None)
    assert not isinstance(imported, PreviewExpired)  # only a preview's confirm goes stale
    return imported


async def _import_table(
    services: Services, actor: Actor, *, filename: str, data: bytes, becomes: int | None
) -> TableImported | TableRefused | PreviewExpired | Rejected:
    """`becomes`: the version a preview showed the table would become — if that version
    exists by now, the same table is not stored twice (a second press of «Lưu», a reload),
    and another table saved since the preview makes the preview stale."""
    table = await check_table(actor, filename=filename, data=data)
    if not isinstance(table, ScoringTable):
        return table
    bloc_id = secretariat_bloc(actor)
    assert not isinstance(bloc_id, Rejected)
    async with services.db.uow() as uow:
        # Locked: two presses at once wait for each other, the second sees the first's version.
        bloc = await uow.blocs.require(bloc_id, lock=becomes is not None)
        if becomes is not None:
            latest = await uow.tables.latest(bloc_id, bloc.year)
            if latest is not None and latest[1] >= becomes:
                if latest[1] == becomes and latest[2] == table:
                    return TableImported(becomes, bloc.year, table, repeated=True)
                return PreviewExpired()
        table_id, version = await uow.tables.add(
            bloc_id=bloc_id,
            year=bloc.year,
            table=table,
            created_by=actor.identity.id,
            now=services.clock.now(),
        )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="scoring_table.imported",
            table=table_id,
            version=version,
            items=len(table.items),
            max_total_cp=table.max_total_cp,
        )
        await uow.commit()
    return TableImported(version, bloc.year, table)


PREVIEW_SECONDS = 600  # a previewed table may be confirmed for 10 minutes


@dataclass(frozen=True, slots=True)
class TablePreview:
    """A table file read and checked but not saved (the web's preview): the version it would
    become, and the ticket that confirms it (see :func:`preview_table`)."""

    table: ScoringTable
    year: int
    version: int
    filename: str
    ticket: str


@dataclass(frozen=True, slots=True)
class PreviewExpired:
    """A confirm whose ticket is past its 10 minutes, altered, or another person's."""


def _preview_key(services: Services) -> bytes:
    # A key of its own, derived from the server's secret (never the audit chain's key itself).
    return hmac.new(services.audit_key, b"thidua/scoring-table-preview", hashlib.sha256).digest()


def _ticket_sig(services: Services, payload: str) -> str:
    return hmac.new(_preview_key(services), payload.encode(), hashlib.sha256).hexdigest()


async def preview_table(
    services: Services, actor: Actor, *, filename: str, data: bytes
) -> TablePreview | TableRefused | Rejected:
    """A table file checked as /criteria import checks it, shown before anything is saved.

    A good file is kept in the file store (by its SHA-256, as report files are); the ticket
    names it with the file's name, the person, the bloc and an expiry 10 minutes ahead, signed
    with a key derived from the server's secret. The confirm (:func:`confirm_table`) carries
    the ticket back; nothing but the signed file can be saved with it.
    """
    table = await check_table(actor, filename=filename, data=data)
    if not isinstance(table, ScoringTable):
        return table
    bloc_id = secretariat_bloc(actor)
    assert not isinstance(bloc_id, Rejected)
    async with services.db.uow(read_only=True) as uow:
        bloc = await uow.blocs.require(bloc_id)
        latest = await uow.tables.latest(bloc_id, bloc.year)
    digest = services.files.put(data)
    expires = int(services.clock.now().timestamp()) + PREVIEW_SECONDS
    version = (latest[1] if latest else 0) + 1
    payload = base64.urlsafe_b64encode(
        json.dumps([actor.identity.id, bloc_id, digest, filename, expires, version]).encode()
    ).decode()
    ticket = f"{payload}.{_ticket_sig(services, payload)}"
    return TablePreview(table, bloc.year, version, filename, ticket)


async def confirm_table(
    services: Services, actor: Actor, *, ticket: str
) -> TableImported | TableRefused | PreviewExpired | Rejected:
    """Save the previewed table: the ticket's signature, person, bloc and expiry checked, the
    file read back by its hash and imported exactly as /criteria import does."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    payload, _, sig = ticket.strip().partition(".")
    if not hmac.compare_digest(_ticket_sig(services, payload), sig):
        return PreviewExpired()
    try:
        person, bloc, digest, filename, expires, becomes = json.loads(
            base64.urlsafe_b64decode(payload)
        )
        data = services.files.read(str(digest))
    except (ValueError, TypeError, OSError):
        return PreviewExpired()
    now = int(services.clock.now().timestamp())
    if (person, bloc) != (actor.identity.id, bloc_id) or not now <= int(expires):
        return PreviewExpired()
    if hashlib.sha256(data).hexdigest() != digest:
        return PreviewExpired()
    return await _import_table(
        services, actor, filename=str(filename), data=data, becomes=int(becomes)
    )


@dataclass(frozen=True, slots=True)
class TableVersion:
    version: int
    year: int
    table: ScoringTable
    created_at: datetime
    timezone: str


async def table_versions(services: Services, actor: Actor) -> list[TableVersion] | Rejected:
    """Every version of the bloc's scoring table for its year, the newest first."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow(read_only=True) as uow:
        bloc = await uow.blocs.require(bloc_id)
        rows = await uow.tables.versions(bloc_id, bloc.year)
    return [TableVersion(v, bloc.year, table, at, bloc.timezone) for v, table, at in rows]


async def current_table(services: Services, actor: Actor) -> TableImported | Rejected:
    bloc_id = actor.current_bloc_id
    if bloc_id is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        latest = await uow.tables.latest(bloc_id, bloc.year)
    if latest is None:
        return Rejected(Reason.NO_TABLE)
    return TableImported(latest[1], bloc.year, latest[2])


# --- periods -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodView:
    period: Period
    number: int  # position in the bloc's list of periods
    table_version: int
    timezone: str
    submitted: int = 0
    units: int = 0


@dataclass(frozen=True, slots=True)
class PeriodOpened:
    view: PeriodView


async def open_period(
    services: Services,
    actor: Actor,
    *,
    kind_text: str,
    title: str,
    deadline_text: str,
    policy_text: str = "",
    max_mb_text: str = "",
    types_text: str = "",
) -> PeriodOpened | Rejected:
    """Open a report period on the bloc's current scoring table; every representative is told."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    kind = parse_kind(kind_text)
    if kind is None:
        return Rejected(Reason.BAD_PERIOD_KIND, {"value": clean(kind_text)})
    policy = parse_policy(policy_text) if policy_text.strip() else LatePolicy.ACCEPT
    if policy is None:
        return Rejected(Reason.BAD_POLICY, {"value": clean(policy_text)})
    title = clean(title)
    if not title:
        return Rejected(Reason.NAME_MISSING)
    refused = refuse_long("period_title", title)
    if refused is not None:
        return refused
    max_bytes = parse_max_mb(max_mb_text) if max_mb_text.strip() else DEFAULT_MAX_BYTES
    if max_bytes is None:
        return Rejected(Reason.BAD_MAX_SIZE, {"value": clean(max_mb_text)})
    types = parse_types(types_text) if types_text.strip() else DEFAULT_TYPES
    if types is None:
        return Rejected(Reason.BAD_TYPES, {"value": clean(types_text), "known": KNOWN_TYPES})
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        deadline = local_to_utc(deadline_text, bloc.timezone)
        if deadline is None:
            return Rejected(Reason.BAD_DATE, {"value": clean(deadline_text)})
        if deadline <= now:
            return Rejected(Reason.DEADLINE_PAST, {"value": clean(deadline_text)})
        latest = await uow.tables.latest(bloc_id, bloc.year)
        if latest is None:
            return Rejected(Reason.NO_TABLE)
        table_id, version, _ = latest
        period = await uow.reports.add_period(
            bloc_id=bloc_id,
            kind=kind,
            title=title,
            deadline=deadline,
            late_policy=policy,
            max_bytes=max_bytes,
            accepted_types=types,
            table_id=table_id,
            created_by=actor.identity.id,
            now=now,
        )
        audit = await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="period.opened",
            period=period.id,
            kind=kind.value,
            title=title,
            deadline=deadline.isoformat(),
            late_policy=policy.value,
            table=table_id,
        )
        number = len(await uow.reports.periods(bloc_id))
        notice = Notice(
            await _representatives(uow, bloc_id),
            "period_opened_notice",
            {"bloc": bloc.name, "title": title, "deadline": deadline, "tz": bloc.timezone},
        )
        await queue_notices(uow, services, [notice], audit=audit, bloc_id=bloc_id, now=now)
        await uow.commit()
    await services.outbox_flush()
    return PeriodOpened(PeriodView(period, number, version, bloc.timezone))


async def _representatives(
    uow: UnitOfWork, bloc_id: int, unit_id: int | None = None
) -> tuple[int, ...]:
    members = await uow.identities.members_of_bloc(bloc_id)
    return tuple(
        ident.id
        for m, ident in members
        if m.has(Role.REPRESENTATIVE) and (unit_id is None or m.unit_id == unit_id)
    )


async def list_periods(services: Services, actor: Actor) -> list[PeriodView] | Rejected:
    bloc_id = actor.current_bloc_id
    if bloc_id is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        views = []
        for number, period in enumerate(await uow.reports.periods(bloc_id), start=1):
            version, _ = await uow.tables.get(period.table_id)
            latest = await uow.reports.latest_by_unit(period.id)
            owing = await owing_units(uow, period)
            views.append(
                PeriodView(period, number, version, bloc.timezone, len(latest), len(owing))
            )
    return views


def _pick_period(periods: list[Period], ref: str | None) -> Period | None:
    """A period by its number in /period, or the latest one when none is named."""
    if not periods:
        return None
    if ref is None or not ref.strip():
        return periods[-1]
    ref = ref.strip().lstrip("#")
    if ref.isdecimal() and 1 <= int(ref) <= len(periods):
        return periods[int(ref) - 1]
    return None


@dataclass(frozen=True, slots=True)
class PeriodExtended:
    view: PeriodView
    old_deadline: datetime


async def extend_period(
    services: Services, actor: Actor, *, period_ref: str, deadline_text: str
) -> PeriodExtended | Rejected:
    """Gia hạn: a later deadline for a period; every representative is told."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        periods = await uow.reports.periods(bloc_id)
        period = _pick_period(periods, period_ref)
        if period is None:
            return Rejected(Reason.UNKNOWN_PERIOD, {"value": clean(period_ref)})
        deadline = local_to_utc(deadline_text, bloc.timezone)
        if deadline is None:
            return Rejected(Reason.BAD_DATE, {"value": clean(deadline_text)})
        if deadline <= now or deadline <= period.deadline:
            return Rejected(Reason.DEADLINE_PAST, {"value": clean(deadline_text)})
        await uow.reports.set_deadline(period.id, deadline)
        audit = await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="period.extended",
            period=period.id,
            old=period.deadline.isoformat(),
            new=deadline.isoformat(),
        )
        notice = Notice(
            await _representatives(uow, bloc_id),
            "period_extended_notice",
            {"bloc": bloc.name, "title": period.title, "deadline": deadline, "tz": bloc.timezone},
        )
        await queue_notices(uow, services, [notice], audit=audit, bloc_id=bloc_id, now=now)
        version, _ = await uow.tables.get(period.table_id)
        await uow.commit()
    await services.outbox_flush()
    updated = replace(period, deadline=deadline)
    view = PeriodView(updated, periods.index(period) + 1, version, bloc.timezone)
    return PeriodExtended(view, period.deadline)


async def last_extension(services: Services, view: PeriodView) -> PeriodExtended | None:
    """The period's latest extension as the audit log recorded it (the deadline it replaced),
    while the deadline it set still stands: what the console says after «Gia hạn», read
    again on every reload of that page (`view`: from :func:`period_status`, which checked who
    asks)."""
    period = view.period
    async with services.db.uow(read_only=True) as uow:
        entry = await last_done(uow, period.bloc_id, "period.extended", period=period.id)
    if entry is None or datetime.fromisoformat(entry.details["new"]) != period.deadline:
        return None
    return PeriodExtended(view, datetime.fromisoformat(entry.details["old"]))


# --- the submission walk -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WalkContext:
    bloc: Bloc
    period: Period
    unit: Unit
    table: ScoringTable
    table_version: int
    draft: Draft
    latest: Submission | None
    self_values: dict[str, int]  # review walks: the unit's own scores, shown beside each item
    window: datetime | None = None  # a return for correction: resubmit on time until then
    kept: KeptDraft | None = None  # just started on the unit's behalf from the unit's draft


@dataclass(frozen=True, slots=True)
class KeptDraft:
    """What a submission on a unit's behalf took over from the draft the unit's
    representative had begun: who typed it, how many scores, the file's name if any."""

    by: str
    scores: int
    file_name: str | None


@dataclass(frozen=True, slots=True)
class ChoosePeriod:
    periods: tuple[PeriodView, ...]
    unit: Unit
    on_behalf: bool


@dataclass(frozen=True, slots=True)
class AskFile:
    ctx: WalkContext
    timing: Timing


@dataclass(frozen=True, slots=True)
class AskItem:
    ctx: WalkContext
    index: int
    problem: ValueProblem | None = None

    @property
    def item(self) -> Item:
        return self.ctx.table.items[self.index]


@dataclass(frozen=True, slots=True)
class Summary:
    ctx: WalkContext
    totals: Totals

    @property
    def groups(self) -> tuple[GroupTotal, ...]:
        """Per criteria group: the points given and the group's maximum (long tables)."""
        return group_totals(self.ctx.table, self.ctx.draft.values)


@dataclass(frozen=True, slots=True)
class Receipt:
    ctx: WalkContext
    submission: Submission
    totals: Totals
    # A second tap on «Xác nhận nộp» that found this draft already submitted by the first:
    # the receipt is the one already shown, nothing new was stored.
    repeated: bool = False


@dataclass(frozen=True, slots=True)
class Reviewed:
    ctx: WalkContext
    totals: Totals


@dataclass(frozen=True, slots=True)
class FileReplaced:
    """A new file sent while the draft already had one: it replaces the old, answers stay."""

    step: AskItem | Summary
    old_name: str


@dataclass(frozen=True, slots=True)
class WalkClosed:
    """The walk cannot go on (late under "refuse", a newer version to review, the right to
    report lost): the conversation ends; ``rejected`` says why."""

    rejected: Rejected


Step = AskFile | AskItem | Summary


async def start_report(
    services: Services,
    actor: Actor,
    *,
    unit_ref: str = "",
    unit_id: int | None = None,
    period_id: int | None = None,
) -> ChoosePeriod | AskFile | AskItem | Summary | Rejected:
    """/report: a representative's own unit, or (secretariat) a unit named on whose behalf."""
    bloc_id = actor.current_bloc_id
    if bloc_id is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    membership = actor.membership(bloc_id)
    assert membership is not None
    async with services.db.uow() as uow:
        units = await uow.blocs.units(bloc_id)
        on_behalf = bool(unit_ref.strip()) or unit_id is not None
        if on_behalf:
            if not membership.has(Role.SECRETARIAT):
                return Rejected(Reason.NOT_SECRETARIAT)
            if unit_id is not None:
                unit = next((u for u in units if u.id == unit_id), None)
            else:
                picked = pick_unit(units, unit_ref)
                if isinstance(picked, Rejected):
                    return picked
                unit = picked
            if unit is None:
                return Rejected(Reason.UNKNOWN_UNIT, {"value": clean(unit_ref)})
        else:
            if membership.unit_id is None or not membership.has(Role.REPRESENTATIVE):
                if membership.has(Role.OBSERVER) and not membership.has(Role.SECRETARIAT):
                    return Rejected(Reason.OBSERVER_NO_REPORT)
                return Rejected(
                    Reason.NOT_REPRESENTATIVE, {"secretariat": membership.has(Role.SECRETARIAT)}
                )
            unit = next(u for u in units if u.id == membership.unit_id)
        every = await uow.reports.periods(bloc_id)
        # A period owed by some units only (an achievement report: the units proposed for an
        # award) is not offered to the others, and refused when they name it.
        periods = [p for p in every if await owes(uow, p, unit.id)]
        if period_id is not None:
            found = next((p for p in every if p.id == period_id), None)
            if found is None:
                return Rejected(Reason.UNKNOWN_PERIOD, {"value": str(period_id)})
            if found not in periods:
                return Rejected(Reason.NOT_PROPOSED, {"unit": unit.name, "title": found.title})
            period = found
        elif not periods:
            return Rejected(Reason.NO_PERIOD)
        elif len(periods) > 1:
            bloc = await uow.blocs.require(bloc_id)
            views = []
            for number, p in enumerate(every, start=1):
                if p in periods:
                    version, _ = await uow.tables.get(p.table_id)
                    views.append(PeriodView(p, number, version, bloc.timezone))
            return ChoosePeriod(tuple(views), unit, on_behalf)
        else:
            period = periods[0]
        if not on_behalf:
            # Late under "refuse": say so before anything is stored (the secretariat may still
            # submit a unit's report on its behalf, marked late).
            window = resubmit_window(await uow.reports.versions(period.id, unit.id))
            if timing(period, services.clock.now(), window) is Timing.REFUSED:
                bloc = await uow.blocs.require(bloc_id)
                return Rejected(
                    Reason.LATE_REFUSED,
                    {"deadline": period.deadline, "tz": bloc.timezone, "title": period.title},
                )
        draft = await uow.reports.draft(
            period_id=period.id, unit_id=unit.id, identity_id=actor.identity.id, purpose=SUBMIT
        )
        kept: KeptDraft | None = None
        if draft is None:
            draft = await uow.reports.start_draft(
                period_id=period.id,
                unit_id=unit.id,
                identity_id=actor.identity.id,
                purpose=SUBMIT,
                on_behalf=on_behalf,
                submission_id=None,
                now=services.clock.now(),
            )
            if on_behalf:
                draft, kept = await _continue_units_draft(uow, draft, services.clock.now())
        ctx = replace(await _context(uow, draft), kept=kept)
        await uow.commit()
    return _next_step(ctx, services.clock.now())


async def owes(uow: UnitOfWork, period: Period, unit_id: int) -> bool:
    """Whether the unit owes a report in the period: every unit does, except in a period
    limited to some units (an achievement period: the units proposed for an award)."""
    targets = await uow.reports.targets(period.id)
    return targets is None or unit_id in targets


async def owing_units(uow: UnitOfWork, period: Period) -> list[Unit]:
    """The units that owe a report in the period, in the bloc's order."""
    units = await uow.blocs.units(period.bloc_id)
    targets = await uow.reports.targets(period.id)
    return units if targets is None else [u for u in units if u.id in targets]


async def _continue_units_draft(
    uow: UnitOfWork, draft: Draft, now: datetime
) -> tuple[Draft, KeptDraft | None]:
    """A submission on a unit's behalf continues what the unit's representative typed: the
    secretariat's new draft starts from a copy of the unit's draft (its file and scores).
    The representative's draft stays theirs, unchanged; whichever is submitted first becomes
    the unit's next version."""
    theirs = await uow.reports.representatives_draft(
        period_id=draft.period_id,
        unit_id=draft.unit_id,
        purpose=SUBMIT,
        other_than=draft.identity_id,
    )
    if theirs is None or (theirs.file_sha256 is None and not theirs.values):
        return draft, None
    if theirs.file_sha256 and theirs.file_name and theirs.file_size is not None:
        await uow.reports.set_draft_file(
            draft.id,
            sha256=theirs.file_sha256,
            name=theirs.file_name,
            size=theirs.file_size,
            now=now,
        )
    for code, value in theirs.values.items():
        await uow.reports.set_draft_value(draft.id, code, value, now)
    copied = await uow.reports.draft_by_id(draft.id)
    assert copied is not None
    by = await uow.identities.get(theirs.identity_id)
    return copied, KeptDraft(by.display_name, len(theirs.values), copied.file_name)


async def accepted_types(services: Services, actor: Actor, *, draft_id: int) -> tuple[str, ...]:
    """The file types a report may be sent as: the walk's period's, else the bloc's latest."""
    async with services.db.uow() as uow:
        draft = await _own_draft(uow, actor, draft_id) if draft_id else None
        if isinstance(draft, Draft):
            period = await uow.reports.period(draft.period_id)
        else:
            bloc_id = actor.current_bloc_id
            periods = await uow.reports.periods(bloc_id) if bloc_id is not None else []
            period = periods[-1] if periods else None
    return period.accepted_types if period is not None else DEFAULT_TYPES


async def _context(uow: UnitOfWork, draft: Draft) -> WalkContext:
    period = await uow.reports.period(draft.period_id)
    assert period is not None
    bloc = await uow.blocs.require(period.bloc_id)
    unit = await uow.blocs.unit(draft.unit_id)
    assert unit is not None
    version, table = await uow.tables.get(period.table_id)
    if not period.kind.scored:  # an achievement report is a file only: nothing to score
        table = ScoringTable(table.title, ())
    versions = await uow.reports.versions(period.id, unit.id)
    latest = versions[-1] if versions else None
    self_values: dict[str, int] = {}
    if draft.submission_id is not None:
        self_values = await uow.reports.entries(draft.submission_id, "self")
    return WalkContext(
        bloc, period, unit, table, version, draft, latest, self_values, resubmit_window(versions)
    )


def _next_step(ctx: WalkContext, now: datetime) -> Step | Rejected:
    """Where the walk stands: the file first, then the first unanswered item, then the summary.

    A representative past the deadline under "refuse" is told so instead of being asked for
    a file (the secretariat may still submit on the unit's behalf, marked late).
    """
    if ctx.draft.purpose == SUBMIT and ctx.draft.file_sha256 is None:
        when = timing(ctx.period, now, ctx.window)
        if when is Timing.REFUSED and not ctx.draft.on_behalf:
            return Rejected(Reason.LATE_REFUSED, _deadline_detail(ctx))
        return AskFile(ctx, when)
    return _scoring_step(ctx)


def _scoring_step(ctx: WalkContext) -> AskItem | Summary:
    index = first_unanswered(ctx.table, ctx.draft.values)
    if index is not None:
        return AskItem(ctx, index)
    return Summary(ctx, totals(ctx.table, ctx.draft.values))


async def _own_draft(uow: UnitOfWork, actor: Actor, draft_id: int) -> Draft | Rejected:
    """A draft is only ever touched by the person who started it (ids in buttons are checked)."""
    draft = await uow.reports.draft_by_id(draft_id)
    if draft is None:
        return Rejected(Reason.NOT_YOUR_DRAFT)
    if draft.identity_id != actor.identity.id:
        return Rejected(Reason.NOT_YOUR_DRAFT)
    return draft


async def _live_draft(
    uow: UnitOfWork, actor: Actor, draft_id: int
) -> WalkContext | WalkClosed | Rejected:
    """The sender's own draft, which they may still finish (see :func:`may_finish`)."""
    draft = await _own_draft(uow, actor, draft_id)
    if isinstance(draft, Rejected):
        return draft
    ctx = await _context(uow, draft)
    lost = may_finish(actor, draft, ctx.period)
    return ctx if lost is None else WalkClosed(lost)


def may_finish(actor: Actor, draft: Draft, period: Period) -> Rejected | None:
    """A draft is finished only by someone who still holds the right it was started with:
    a representative of the draft's unit, or the secretariat of the period's bloc for a
    report on a unit's behalf and for a review. A member removed or moved meanwhile is not."""
    membership = actor.membership(period.bloc_id)
    if membership is None:
        return Rejected(Reason.NOT_REPRESENTATIVE if actor.memberships else Reason.NOT_MEMBER)
    if draft.purpose == REVIEW or draft.on_behalf:
        return None if membership.has(Role.SECRETARIAT) else Rejected(Reason.NOT_SECRETARIAT)
    if membership.unit_id == draft.unit_id and membership.has(Role.REPRESENTATIVE):
        return None
    return Rejected(Reason.NOT_REPRESENTATIVE, {"secretariat": membership.has(Role.SECRETARIAT)})


@dataclass(frozen=True, slots=True)
class FileCheck:
    ctx: WalkContext


async def check_upload(
    services: Services, actor: Actor, *, draft_id: int, filename: str, size: int | None
) -> FileCheck | WalkClosed | Rejected:
    """Before downloading: the file's type and size, and whether the period still takes it."""
    async with services.db.uow() as uow:
        ctx = await _live_draft(uow, actor, draft_id)
    if not isinstance(ctx, WalkContext):
        return ctx
    if ctx.draft.purpose == REVIEW:  # a file sent during a review is no report
        return Rejected(Reason.NOT_REPRESENTATIVE, {"secretariat": True})
    when = timing(ctx.period, services.clock.now(), ctx.window)
    if when is Timing.REFUSED and not ctx.draft.on_behalf:
        return Rejected(Reason.LATE_REFUSED, _deadline_detail(ctx))
    problem = check_file(ctx.period, filename, size)
    if problem is not None:
        return Rejected(_FILE_REASONS[problem], _file_detail(ctx.period))
    return FileCheck(ctx)


def _deadline_detail(ctx: WalkContext) -> dict[str, object]:
    return {"deadline": ctx.period.deadline, "tz": ctx.bloc.timezone, "title": ctx.period.title}


def _file_detail(period: Period) -> dict[str, object]:
    return {
        "types": ", ".join(t.upper() for t in period.accepted_types),
        "max_mb": period.max_bytes // (1024 * 1024),
    }


async def attach_file(
    services: Services, actor: Actor, *, draft_id: int, filename: str, data: bytes
) -> AskItem | Summary | FileReplaced | WalkClosed | Rejected:
    """Store the report file by content and move the walk to the first unanswered item.

    A draft that already has a file gets the new one instead (a corrected report): the
    answers given so far are kept, and the person is told the file was replaced.
    """
    checked = await check_upload(
        services, actor, draft_id=draft_id, filename=filename, size=len(data)
    )
    if not isinstance(checked, FileCheck):
        return checked
    # Only stored, never parsed here: the check reads the signature and an archive's
    # directory, cheap enough for the event loop even at 20 MB.
    refused = check_content(extension(filename), data, STORED_LIMITS)
    if refused is not None:
        return Rejected(Reason.FILE_CONTENT, {"file": refused})
    old_name = checked.ctx.draft.file_name
    digest = services.files.put(data)
    now = services.clock.now()
    async with services.db.uow() as uow:
        if await uow.reports.draft_by_id(draft_id) is None:  # cancelled during the download
            return Rejected(Reason.NOT_YOUR_DRAFT)
        await uow.reports.set_draft_file(
            draft_id, sha256=digest, name=clean(filename)[:255], size=len(data), now=now
        )
        draft = await uow.reports.draft_by_id(draft_id)
        assert draft is not None
        ctx = await _context(uow, draft)
        await uow.commit()
    step = _scoring_step(ctx)
    return step if old_name is None else FileReplaced(step, old_name)


async def answer(
    services: Services,
    actor: Actor,
    *,
    draft_id: int,
    index: int,
    text: str,
    file_later: bool = False,
) -> Step | WalkClosed | Rejected:
    """One item's points, typed or from a button; a bad value asks the same item again.

    Text typed at the summary (no item is being asked) shows the summary again.
    `file_later`: a chat that cannot send files (Zalo) scores first; the file comes from the
    person's linked Telegram account (the same draft), and the submission waits for it.
    """
    now = services.clock.now()
    async with services.db.uow() as uow:
        ctx = await _live_draft(uow, actor, draft_id)
        if not isinstance(ctx, WalkContext):
            return ctx
        draft = ctx.draft
        if draft.purpose == SUBMIT and draft.file_sha256 is None and not file_later:
            return _next_step(ctx, now)
        if not 0 <= index < len(ctx.table.items):
            return _next_step(ctx, now)
        value = check_value(ctx.table.items[index], text)
        if isinstance(value, ValueProblem):
            return AskItem(ctx, index, value)
        await uow.reports.set_draft_value(draft_id, ctx.table.items[index].code, value, now)
        updated = await uow.reports.draft_by_id(draft_id)
        assert updated is not None
        ctx = await _context(uow, updated)
        await uow.commit()
    following = _after(ctx.table, ctx.draft.values, index)
    if following is not None:
        return AskItem(ctx, following)
    return _scoring_step(ctx)


def _after(table: ScoringTable, values: dict[str, int], index: int) -> int | None:
    """The next unanswered item after `index` (answers given out of order are kept)."""
    for i in range(index + 1, len(table.items)):
        if table.items[i].code not in values:
            return i
    return None


@dataclass(frozen=True, slots=True)
class ReportForm:
    """The whole walk on one page (the web companion): the draft with its file and values,
    whether the deadline has passed, the running totals, and the values just refused."""

    ctx: WalkContext
    timing: Timing
    totals: Totals
    problems: dict[str, ValueProblem] = field(default_factory=dict)

    @property
    def missing(self) -> tuple[Item, ...]:
        """The items not answered yet (the submission waits for them)."""
        return tuple(i for i in self.ctx.table.items if i.code not in self.ctx.draft.values)


def _form(
    ctx: WalkContext, now: datetime, problems: dict[str, ValueProblem] | None = None
) -> ReportForm:
    return ReportForm(
        ctx,
        timing(ctx.period, now, ctx.window),
        totals(ctx.table, ctx.draft.values),
        problems or {},
    )


async def report_form(
    services: Services, actor: Actor, *, period_id: int | None = None, unit_id: int | None = None
) -> ReportForm | ChoosePeriod | Rejected:
    """The representative's draft for a period as one form: the same draft row the chat walk
    uses (started here or there), the file and every answer so far; scoring may come first.
    With `unit_id`, the secretariat's draft on that unit's behalf (as /report UNIT)."""
    step = await start_report(services, actor, period_id=period_id, unit_id=unit_id)
    if isinstance(step, ChoosePeriod | Rejected):
        return step
    return _form(step.ctx, services.clock.now())


async def answer_many(
    services: Services, actor: Actor, *, draft_id: int, values: Mapping[str, str]
) -> ReportForm | WalkClosed | Rejected:
    """Several items' points at once (keyed by item code, as typed; blank = not answered):
    each is checked as in :func:`answer`, the valid ones are saved, the others come back as
    problems per code. The file may come later, as with `answer(file_later=True)`."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        ctx = await _live_draft(uow, actor, draft_id)
        if not isinstance(ctx, WalkContext):
            return ctx
        problems: dict[str, ValueProblem] = {}
        changed = False
        for item in ctx.table.items:
            text = values.get(item.code, "")
            if not text.strip():
                continue
            value = check_value(item, text)
            if isinstance(value, ValueProblem):
                problems[item.code] = value
            elif ctx.draft.values.get(item.code) != value:
                await uow.reports.set_draft_value(draft_id, item.code, value, now)
                changed = True
        if changed:
            updated = await uow.reports.draft_by_id(draft_id)
            assert updated is not None
            ctx = await _context(uow, updated)
            await uow.commit()
    return _form(ctx, now, problems)


async def go_back(
    services: Services, actor: Actor, *, draft_id: int, index: int
) -> Step | WalkClosed | Rejected:
    """Show the item before `index` again (index = number of items: back from the summary)."""
    async with services.db.uow() as uow:
        ctx = await _live_draft(uow, actor, draft_id)
    if not isinstance(ctx, WalkContext):
        return ctx
    return AskItem(ctx, max(0, min(index, len(ctx.table.items)) - 1))


async def show_step(
    services: Services, actor: Actor, *, draft_id: int, file_later: bool = False
) -> Step | WalkClosed | Rejected:
    async with services.db.uow() as uow:
        ctx = await _live_draft(uow, actor, draft_id)
    if not isinstance(ctx, WalkContext):
        return ctx
    if file_later:
        return _scoring_step(ctx)
    return _next_step(ctx, services.clock.now())


async def confirm(
    services: Services, actor: Actor, *, draft_id: int
) -> Receipt | Reviewed | Step | WalkClosed | Rejected:
    """Submit the draft as the unit's next version (or save the secretariat's review)."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        ctx = await _live_draft(uow, actor, draft_id)
        if not isinstance(ctx, WalkContext):
            return ctx
        if first_unanswered(ctx.table, ctx.draft.values) is not None:
            return _next_step(ctx, now)
        if ctx.draft.purpose == REVIEW:
            outcome: Receipt | Reviewed | WalkClosed | Rejected = await _save_review(
                uow, services, actor, ctx
            )
        else:
            outcome = await _save_submission(uow, services, actor, ctx)
        if isinstance(outcome, Rejected) or (isinstance(outcome, Receipt) and outcome.repeated):
            return outcome
        await uow.commit()  # a WalkClosed has deleted the draft
    if isinstance(outcome, Receipt | Reviewed):
        await services.outbox_flush()
    return outcome


async def receipt_again(
    services: Services, actor: Actor, *, period_id: int, version: int
) -> Receipt | Rejected:
    """The receipt of a version this person submitted for their unit: the page the submission
    leads to, and a form posted again after its draft became that version (a reload), show
    the same receipt and store nothing."""
    bloc_id = actor.current_bloc_id
    membership = actor.membership(bloc_id) if bloc_id is not None else None
    if membership is None or membership.unit_id is None:
        return Rejected(Reason.NOT_YOUR_DRAFT)
    async with services.db.uow(read_only=True) as uow:
        period = await uow.reports.period(period_id)
        if period is None or period.bloc_id != bloc_id:
            return Rejected(Reason.NOT_YOUR_DRAFT)
        versions = await uow.reports.versions(period.id, membership.unit_id)
        done = next((v for v in versions if v.version == version), None)
        if done is None or done.submitted_by != actor.identity.id or done.on_behalf:
            return Rejected(Reason.NOT_YOUR_DRAFT)
        return await _receipt_of(uow, done)


async def behalf_receipt(
    services: Services, actor: Actor, *, period_ref: str, unit_ref: str, version: int
) -> Receipt | Rejected:
    """The receipt of a version the secretariat submitted on a unit's behalf (/report UNIT),
    read again: the console's page after that submission, and every reload of it."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow(read_only=True) as uow:
        period = _pick_period(await uow.reports.periods(bloc_id), period_ref)
        if period is None:
            return Rejected(Reason.UNKNOWN_PERIOD, {"value": clean(period_ref)})
        unit = pick_unit(await uow.blocs.units(bloc_id), unit_ref)
        if isinstance(unit, Rejected):
            return unit
        versions = await uow.reports.versions(period.id, unit.id)
        done = next((v for v in versions if v.version == version and v.on_behalf), None)
        if done is None:
            return Rejected(Reason.NO_SUBMISSION, {"unit": unit.name})
        return await _receipt_of(uow, done)


async def _receipt_of(uow: UnitOfWork, done: Submission) -> Receipt:
    """A stored version's receipt, from the draft as it was when it became that version
    (drafts are deleted on submission)."""
    values = await uow.reports.entries(done.id, "self")
    draft = Draft(
        0,
        done.period_id,
        done.unit_id,
        done.submitted_by,
        SUBMIT,
        done.on_behalf,
        done.id,
        done.file_sha256,
        done.file_name,
        done.file_size,
        values,
    )
    ctx = await _context(uow, draft)
    return Receipt(ctx, done, totals(ctx.table, values), repeated=True)


async def _save_submission(
    uow: UnitOfWork, services: Services, actor: Actor, ctx: WalkContext
) -> Receipt | WalkClosed | Rejected:
    now = services.clock.now()
    draft = ctx.draft
    if draft.file_sha256 is None or draft.file_name is None or draft.file_size is None:
        return Rejected(Reason.NO_FILE_YET)
    await uow.reports.lock_unit(ctx.unit.id)
    versions = await uow.reports.versions(ctx.period.id, ctx.unit.id)
    # A second tap on «Xác nhận nộp» waited on the lock above while the first one turned this
    # very draft into a version: read the draft afresh, and show that version's receipt.
    if not await uow.reports.lock_draft(draft.id):
        done = next(
            (
                v
                for v in reversed(versions)
                if v.submitted_by == actor.identity.id and v.file_sha256 == draft.file_sha256
            ),
            None,
        )
        if done is None:
            return Rejected(Reason.NOT_YOUR_DRAFT)
        return Receipt(ctx, done, totals(ctx.table, draft.values), repeated=True)
    when = timing(ctx.period, now, resubmit_window(versions))
    if when is Timing.REFUSED and not draft.on_behalf:
        # Nothing is stored for a refused submission; the file may stay in the store, which
        # is shared by content.
        await uow.reports.delete_draft(draft.id)
        return WalkClosed(Rejected(Reason.LATE_REFUSED, _deadline_detail(ctx)))
    sums = totals(ctx.table, draft.values)
    submission = await uow.reports.add_submission(
        period_id=ctx.period.id,
        unit_id=ctx.unit.id,
        submitted_by=actor.identity.id,
        uploaded_by=actor.identity.id,
        on_behalf=draft.on_behalf,
        file_sha256=draft.file_sha256,
        file_name=draft.file_name,
        file_size=draft.file_size,
        late=when is not Timing.ON_TIME,  # on the unit's behalf after a "refuse" deadline too
        now=now,
        values=draft.values,
        self_total_cp=sums.total_cp,
    )
    await uow.reports.delete_draft(draft.id)
    audit = await record(
        uow,
        services,
        bloc_id=ctx.bloc.id,
        actor_identity_id=actor.identity.id,
        unit_id=ctx.unit.id,
        action="report.submitted",
        period=ctx.period.id,
        version=submission.version,
        sha256=submission.file_sha256,
        total_cp=sums.total_cp,
        late=submission.late,
        on_behalf=draft.on_behalf,
    )
    colleagues = tuple(
        i for i in await _representatives(uow, ctx.bloc.id, ctx.unit.id) if i != actor.identity.id
    )
    context = {
        "person": actor.identity.display_name,
        "unit": ctx.unit.name,
        "title": ctx.period.title,
        "version": submission.version,
        "total_cp": sums.total_cp,
        "late": submission.late,
        "on_behalf": draft.on_behalf,
        "scored": ctx.period.kind.scored,
    }
    notice = Notice(colleagues, "report_submitted_notice", context)
    await queue_notices(uow, services, [notice], audit=audit, bloc_id=ctx.bloc.id, now=now)
    return Receipt(ctx, submission, sums)


async def _save_review(
    uow: UnitOfWork, services: Services, actor: Actor, ctx: WalkContext
) -> Reviewed | WalkClosed | Rejected:
    draft = ctx.draft
    if draft.submission_id is None:
        return Rejected(Reason.NO_SUBMISSION)
    latest = ctx.latest
    if latest is None or latest.id != draft.submission_id:
        # A newer version arrived while the secretariat was reviewing: review that one instead.
        await uow.reports.delete_draft(draft.id)
        return WalkClosed(Rejected(Reason.NO_SUBMISSION, {"newer": True}))
    sums = totals(ctx.table, draft.values)
    await uow.reports.set_reviewed(
        draft.submission_id,
        draft.values,
        total_cp=sums.total_cp,
        reviewer=actor.identity.id,
        now=services.clock.now(),
    )
    await uow.reports.delete_draft(draft.id)
    audit = await record(
        uow,
        services,
        bloc_id=ctx.bloc.id,
        actor_identity_id=actor.identity.id,
        unit_id=ctx.unit.id,
        action="report.reviewed",
        period=ctx.period.id,
        version=latest.version,
        self_total_cp=latest.self_total_cp,
        reviewed_total_cp=sums.total_cp,
    )
    reps = await _representatives(uow, ctx.bloc.id, ctx.unit.id)
    context = {
        "unit": ctx.unit.name,
        "title": ctx.period.title,
        "version": latest.version,
        "self_cp": latest.self_total_cp,
        "reviewed_cp": sums.total_cp,
    }
    notice = Notice(reps, "report_reviewed_notice", context)
    now = services.clock.now()
    await queue_notices(uow, services, [notice], audit=audit, bloc_id=ctx.bloc.id, now=now)
    return Reviewed(ctx, sums)


async def cancel_draft(services: Services, actor: Actor, *, draft_id: int) -> bool:
    async with services.db.uow() as uow:
        draft = await _own_draft(uow, actor, draft_id)
        if isinstance(draft, Rejected):
            return False
        await uow.reports.delete_draft(draft.id)
        await uow.commit()
    return True


# --- the secretariat: status, review, return, export ----------------------------------------


@dataclass(frozen=True, slots=True)
class UnitLine:
    number: int
    unit: Unit
    status: UnitStatus
    latest: Submission | None


@dataclass(frozen=True, slots=True)
class PeriodStatus:
    view: PeriodView
    lines: tuple[UnitLine, ...]
    # Next year's covenant, when set: (year, units signed, units not signed, by name).
    covenant: tuple[int, int, tuple[str, ...]] | None = None

    def count(self, status: UnitStatus | str) -> int:
        wanted = UnitStatus(status)
        return sum(1 for line in self.lines if line.status is wanted)


async def period_status(
    services: Services, actor: Actor, *, period_ref: str = ""
) -> PeriodStatus | Rejected:
    """Submitted / missing / late / returned per unit, with the total that counts."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        periods = await uow.reports.periods(bloc_id)
        period = _pick_period(periods, period_ref)
        if period is None:
            if not periods:
                return Rejected(Reason.NO_PERIOD)
            return Rejected(Reason.UNKNOWN_PERIOD, {"value": clean(period_ref)})
        units = await owing_units(uow, period)
        latest = await uow.reports.latest_by_unit(period.id)
        version, _ = await uow.tables.get(period.table_id)
        covenant = await uow.covenants.of_year(bloc_id, bloc.year + 1)
        signed = set(await uow.covenants.signatures(covenant.id)) if covenant else set()
    lines = tuple(
        UnitLine(i + 1, u, unit_status(latest.get(u.id)), latest.get(u.id))
        for i, u in enumerate(units)
    )
    view = PeriodView(
        period, periods.index(period) + 1, version, bloc.timezone, len(latest), len(units)
    )
    signing = (
        (covenant.year, len(signed), tuple(u.name for u in units if u.id not in signed))
        if covenant is not None
        else None
    )
    return PeriodStatus(view, lines, signing)


async def start_review(
    services: Services, actor: Actor, *, unit_ref: str, period_ref: str = ""
) -> AskItem | Summary | Rejected:
    """The secretariat reviews a unit's latest submission item by item (thẩm định)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        periods = await uow.reports.periods(bloc_id)
        # Unnamed, the latest period with scores to review: an achievement period opened
        # after the conference (files only) does not take the year-end period's place.
        period = _pick_period(
            periods if period_ref.strip() else [p for p in periods if p.kind.scored], period_ref
        )
        if period is None:
            return Rejected(
                Reason.NO_PERIOD if not periods else Reason.UNKNOWN_PERIOD,
                {"value": clean(period_ref)},
            )
        unit = pick_unit(await uow.blocs.units(bloc_id), unit_ref)
        if isinstance(unit, Rejected):
            return unit
        versions = await uow.reports.versions(period.id, unit.id)
        if not versions:
            return Rejected(Reason.NO_SUBMISSION, {"unit": unit.name})
        latest = versions[-1]
        draft = await uow.reports.draft(
            period_id=period.id, unit_id=unit.id, identity_id=actor.identity.id, purpose=REVIEW
        )
        if draft is not None and draft.submission_id != latest.id:
            await uow.reports.delete_draft(draft.id)
            draft = None
        if draft is None:
            draft = await uow.reports.start_draft(
                period_id=period.id,
                unit_id=unit.id,
                identity_id=actor.identity.id,
                purpose=REVIEW,
                on_behalf=False,
                submission_id=latest.id,
                now=services.clock.now(),
            )
        ctx = await _context(uow, draft)
        await uow.commit()
    return _scoring_step(ctx)


@dataclass(frozen=True, slots=True)
class Returned:
    unit: Unit
    submission: Submission
    until: datetime
    timezone: str
    comment: str


async def return_report(
    services: Services,
    actor: Actor,
    *,
    unit_ref: str,
    until_text: str,
    comment: str,
    period_ref: str = "",
) -> Returned | Rejected:
    """Trả lại để sửa: the unit may resubmit until a new date; it is told why."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    comment = clean(comment)
    if not comment:
        return Rejected(Reason.COMMENT_MISSING)
    if len(comment) > MAX_COMMENT:
        # The comment is stored and sent whole, so the unit reads exactly what was written.
        return Rejected(Reason.COMMENT_TOO_LONG, {"max": MAX_COMMENT, "length": len(comment)})
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        periods = await uow.reports.periods(bloc_id)
        period = _pick_period(periods, period_ref)
        if period is None:
            return Rejected(Reason.NO_PERIOD)
        unit = pick_unit(await uow.blocs.units(bloc_id), unit_ref)
        if isinstance(unit, Rejected):
            return unit
        until = local_to_utc(until_text, bloc.timezone)
        if until is None:
            return Rejected(Reason.BAD_DATE, {"value": clean(until_text)})
        if until <= now:
            return Rejected(Reason.DEADLINE_PAST, {"value": clean(until_text)})
        versions = await uow.reports.versions(period.id, unit.id)
        if not versions:
            return Rejected(Reason.NO_SUBMISSION, {"unit": unit.name})
        latest = versions[-1]
        await uow.reports.set_returned(latest.id, comment=comment, until=until, now=now)
        audit = await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            unit_id=unit.id,
            action="report.returned",
            period=period.id,
            version=latest.version,
            until=until.isoformat(),
            comment=comment,
        )
        context = {
            "unit": unit.name,
            "title": period.title,
            "version": latest.version,
            "comment": comment,
            "until": until,
            "tz": bloc.timezone,
        }
        notice = Notice(
            await _representatives(uow, bloc_id, unit.id), "report_returned_notice", context
        )
        await queue_notices(uow, services, [notice], audit=audit, bloc_id=bloc_id, now=now)
        await uow.commit()
    await services.outbox_flush()
    return Returned(unit, latest, until, bloc.timezone, comment)


async def score_sheet(
    services: Services, actor: Actor, *, period_ref: str = ""
) -> ScoreSheet | Rejected:
    """The data of the XLSX export: units × items, self and reviewed, totals and rank."""
    status = await period_status(services, actor, period_ref=period_ref)
    if isinstance(status, Rejected):
        return status
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(status.view.period.bloc_id)
        _, table = await uow.tables.get(status.view.period.table_id)
        if not status.view.period.kind.scored:  # achievement reports: who sent one, no scores
            table = ScoringTable(table.title, ())
        values: dict[int, tuple[dict[str, int], dict[str, int]]] = {}
        for line in status.lines:
            if line.latest is not None:
                values[line.unit.id] = (
                    await uow.reports.entries(line.latest.id, "self"),
                    await uow.reports.entries(line.latest.id, "reviewed"),
                )
    counted = {
        line.unit.id: line.latest.total_cp for line in status.lines if line.latest is not None
    }
    ranks = competition_ranks(counted)
    rows = tuple(
        UnitScoreRow(
            number=line.number,
            name=line.unit.name,
            short_name=line.unit.short_name,
            status=line.status.value,
            version=line.latest.version if line.latest else None,
            self_values=values.get(line.unit.id, ({}, {}))[0],
            reviewed_values=values.get(line.unit.id, ({}, {}))[1],
            self_total_cp=line.latest.self_total_cp if line.latest else None,
            reviewed_total_cp=line.latest.reviewed_total_cp if line.latest else None,
            total_cp=line.latest.total_cp if line.latest else None,
            rank=ranks.get(line.unit.id),
        )
        for line in status.lines
    )
    return ScoreSheet(bloc.name, status.view.period.title, table, rows)


async def archive_entries(
    services: Services, actor: Actor | None, *, period_ref: str = "", period_id: int | None = None
) -> list[ArchiveEntry] | Rejected:
    """The latest version of every unit's report, for the ZIP archive (or the server CLI)."""
    if actor is not None:
        status = await period_status(services, actor, period_ref=period_ref)
        if isinstance(status, Rejected):
            return status
        return status_entries(services, status)
    async with services.db.uow() as uow:
        period = await uow.reports.period(period_id or 0)
        if period is None:
            return Rejected(Reason.UNKNOWN_PERIOD, {"value": str(period_id)})
        units = await uow.blocs.units(period.bloc_id)
        latest = await uow.reports.latest_by_unit(period.id)
    return _entries(services, [(n, u, latest.get(u.id)) for n, u in enumerate(units, start=1)])


def status_entries(services: Services, status: PeriodStatus) -> list[ArchiveEntry]:
    """The archive's entries from a status already read (the status page shows its parts)."""
    return _entries(services, [(line.number, line.unit, line.latest) for line in status.lines])


def _entries(
    services: Services, lines: list[tuple[int, Unit, Submission | None]]
) -> list[ArchiveEntry]:
    return [
        ArchiveEntry(
            unit_number=number,
            unit_short=unit.short_name,
            version=latest.version,
            original_name=latest.file_name,
            path=services.files.path(latest.file_sha256),
            size=latest.file_size,
        )
        for number, unit, latest in lines
        if latest is not None
    ]
