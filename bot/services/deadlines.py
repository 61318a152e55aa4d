"""Deadlines of every kind and the reminders the tick plans for them (design decision 9).

A deadline source answers two questions for its kind: which deadlines are open, and which
units have not acted on one. Reminders go, in private chat, to the representatives of those
units only, at the kind's offsets (quiet hours applied, missed ones collapsed); each is one
outbox row with the producer's dedup key `remind:{deadline}:{identity}:{offset}`, so planning
it twice — two ticks, two workers, a restart — sends it once. The covenant (next issue) plugs
in as one more source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.deadlines import (
    Deadline,
    DeadlineKind,
    ReminderSettings,
    digest_due,
    parse_offsets,
    parse_quiet,
    remaining,
    reminder_due,
)
from bot.core.models import Bloc, Role
from bot.core.ports import Button
from bot.core.text import clean, fold_diacritics
from bot.core.voting import BallotStatus
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import last_done, record
from bot.services.outbox import for_chat, notice_rows, to_person
from bot.services.outcomes import Notice, Reason, Rejected, refuse_long
from bot.services.reports import local_to_utc
from bot.services.voting import ballot_context, representatives
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class DeadlineSource(Protocol):
    kind: DeadlineKind

    async def deadlines(self, uow: UnitOfWork, bloc: Bloc, now: datetime) -> list[Deadline]:
        """The bloc's deadlines of this kind that are still ahead."""
        ...

    async def pending(self, uow: UnitOfWork, deadline: Deadline) -> set[int]:
        """Units that must act on the deadline and have not."""
        ...

    def action(self, deadline: Deadline) -> Button | None:
        """The button that opens the action (its text is a strings.toml key)."""
        ...


class ReportSource:
    """A report period: units that have not submitted by its deadline."""

    kind = DeadlineKind.REPORT

    async def deadlines(self, uow: UnitOfWork, bloc: Bloc, now: datetime) -> list[Deadline]:
        return [
            Deadline(f"period:{p.id}", bloc.id, self.kind, p.title, p.deadline, p.created_at)
            for p in await uow.reports.periods(bloc.id)
            if p.deadline > now
        ]

    async def pending(self, uow: UnitOfWork, deadline: Deadline) -> set[int]:
        period_id = int(deadline.key.split(":")[1])
        # An achievement period is owed by the units proposed for an award only.
        units = await uow.reports.targets(period_id)
        if units is None:
            units = {u.id for u in await uow.blocs.units(deadline.bloc_id)}
        return units - set(await uow.reports.latest_by_unit(period_id))

    def action(self, deadline: Deadline) -> Button | None:
        return Button("t:button.report_now", f"rp:{deadline.key.split(':')[1]}:0")


class BallotSource:
    """An open ballot with a closing time: units that have not voted."""

    kind = DeadlineKind.BALLOT

    async def deadlines(self, uow: UnitOfWork, bloc: Bloc, now: datetime) -> list[Deadline]:
        found = []
        for info in await uow.votes.ballots(bloc.id):
            closes = info.ballot.closes_at
            if info.ballot.status is BallotStatus.OPEN and closes is not None and closes > now:
                found.append(
                    Deadline(
                        f"ballot:{info.ballot.id}",
                        bloc.id,
                        self.kind,
                        "",
                        closes,
                        info.ballot.opens_at,
                    )
                )
        return found

    async def pending(self, uow: UnitOfWork, deadline: Deadline) -> set[int]:
        ballot_id = int(deadline.key.split(":")[1])
        units = {u.id for u in await uow.blocs.units(deadline.bloc_id)}
        return units - await uow.votes.voted_units(ballot_id)

    def action(self, deadline: Deadline) -> Button | None:
        return Button("t:button.vote_now", f"vt:{deadline.key.split(':')[1]}:show:0")


class CustomSource:
    """A deadline the secretariat added: units that have not acknowledged it."""

    kind = DeadlineKind.CUSTOM

    async def deadlines(self, uow: UnitOfWork, bloc: Bloc, now: datetime) -> list[Deadline]:
        return [
            Deadline(f"custom:{d.id}", bloc.id, self.kind, d.title, d.due_at, d.created_at)
            for d in await uow.deadlines.of_bloc(bloc.id)
            if d.due_at > now
        ]

    async def pending(self, uow: UnitOfWork, deadline: Deadline) -> set[int]:
        deadline_id = int(deadline.key.split(":")[1])
        units = {u.id for u in await uow.blocs.units(deadline.bloc_id)}
        return units - set(await uow.deadlines.acks(deadline_id))

    def action(self, deadline: Deadline) -> Button | None:
        return Button("t:button.acknowledge", f"dl:{deadline.key.split(':')[1]}:ack")


class CovenantSource:
    """The covenant with a date to sign by: units that have not signed."""

    kind = DeadlineKind.COVENANT

    async def deadlines(self, uow: UnitOfWork, bloc: Bloc, now: datetime) -> list[Deadline]:
        # Next year's; and this year's after /bloc newyear, while its date to sign by is ahead.
        found = []
        for year in (bloc.year, bloc.year + 1):
            covenant = await uow.covenants.of_year(bloc.id, year)
            if covenant is None or covenant.due_at is None or covenant.due_at <= now:
                continue
            found.append(
                Deadline(
                    f"covenant:{covenant.id}",
                    bloc.id,
                    self.kind,
                    str(covenant.year),
                    covenant.due_at,
                    covenant.updated_at,
                )
            )
        return found

    async def pending(self, uow: UnitOfWork, deadline: Deadline) -> set[int]:
        covenant_id = int(deadline.key.split(":")[1])
        units = {u.id for u in await uow.blocs.units(deadline.bloc_id)}
        return units - set(await uow.covenants.signatures(covenant_id))

    def action(self, deadline: Deadline) -> Button | None:
        return Button("t:button.read_covenant", f"cv:{deadline.key.split(':')[1]}:show")


SOURCES: tuple[DeadlineSource, ...] = (
    ReportSource(),
    BallotSource(),
    CustomSource(),
    CovenantSource(),
)


async def open_deadlines(
    uow: UnitOfWork, bloc: Bloc, now: datetime
) -> list[tuple[DeadlineSource, Deadline]]:
    """Every deadline of the bloc still ahead, earliest first (the numbering of /deadlines
    and /announce)."""
    found = [(src, d) for src in SOURCES for d in await src.deadlines(uow, bloc, now)]
    return sorted(found, key=lambda pair: (pair[1].due_at, pair[1].key))


@dataclass(frozen=True, slots=True)
class Planned:
    deadlines: int
    queued: int  # new outbox rows (a reminder planned before is not counted again)


async def plan_reminders(services: Services, now: datetime) -> Planned:
    """Queue every reminder due now, for every bloc, to the units that have not acted. Each
    bloc is planned in its own transaction: one that fails is logged and the others go on."""
    count = queued = 0
    async with services.db.uow() as uow:
        blocs = await uow.blocs.all()
    for bloc in blocs:
        try:
            async with services.db.uow() as uow:
                bloc_count, bloc_queued = await _plan_bloc(services, uow, bloc, now)
                await uow.commit()
        except Exception:
            log.exception("planning the reminders of bloc %s failed", bloc.id)
            continue
        count += bloc_count
        queued += bloc_queued
    return Planned(count, queued)


async def _plan_bloc(
    services: Services, uow: UnitOfWork, bloc: Bloc, now: datetime
) -> tuple[int, int]:
    count = queued = 0
    members = await uow.identities.members_of_bloc(bloc.id)
    units = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
    for source in SOURCES:
        for deadline in await source.deadlines(uow, bloc, now):
            offset = reminder_due(
                now,
                deadline.due_at,
                bloc.reminders.offsets_for(deadline.kind),
                bloc.timezone,
                bloc.reminders.quiet,
                since=deadline.since,
            )
            if offset is None:
                continue
            count += 1
            pending = await source.pending(uow, deadline)
            about = await _about(uow, deadline, bloc)
            days, hours, minutes = remaining(now, deadline.due_at)
            action = source.action(deadline)
            key = f"remind:{deadline.key}:{{}}:{int(offset.total_seconds())}"
            items = []
            for membership, identity in members:
                if membership.unit_id not in pending or not membership.has(Role.REPRESENTATIVE):
                    continue
                text = for_chat(
                    services.renderer,
                    identity.locale,
                    "reminder",
                    web_url=services.web_url,
                    kind=deadline.kind.value,
                    title=deadline.title,
                    ballot=about,
                    unit=units.get(membership.unit_id or 0, ""),
                    due=deadline.due_at,
                    tz=bloc.timezone,
                    days=days,
                    hours=hours,
                    minutes=minutes,
                )
                buttons: tuple[tuple[Button, ...], ...] = ()
                if action is not None:
                    label = services.renderer.t(identity.locale, action.text[2:])
                    buttons = ((Button(label, action.callback_data, action.url),),)
                items += await to_person(
                    uow,
                    identity.id,
                    text,
                    key=key.format(identity.id),
                    bloc_id=bloc.id,
                    now=now,
                    buttons=buttons,
                )
            queued += await uow.outbox.enqueue(items, now)
    return count, queued


async def _about(uow: UnitOfWork, deadline: Deadline, bloc: Bloc) -> dict[str, object] | None:
    """What a ballot reminder names (the template renders it in each recipient's language)."""
    if deadline.kind is not DeadlineKind.BALLOT:
        return None
    return await ballot_context(uow, int(deadline.key.split(":")[1]), bloc)


async def plan_digests(services: Services, now: datetime) -> int:
    """From 08:00 bloc time, once a day while a deadline is open: each secretariat member
    gets done/total and the missing units by name, per deadline (`digest:{bloc}:{date}:{id}`)."""
    queued = 0
    async with services.db.uow() as uow:
        blocs = await uow.blocs.all()
    for bloc in blocs:
        try:
            async with services.db.uow() as uow:
                queued += await _digest_bloc(services, uow, bloc, now)
                await uow.commit()
        except Exception:
            log.exception("planning the digest of bloc %s failed", bloc.id)
    return queued


async def _digest_bloc(services: Services, uow: UnitOfWork, bloc: Bloc, now: datetime) -> int:
    queued = 0
    day = digest_due(now, bloc.timezone, quiet=bloc.reminders.quiet)
    if day is None:
        return 0
    units = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
    rows = []
    for source, deadline in await open_deadlines(uow, bloc, now):
        pending = await source.pending(uow, deadline)
        rows.append(
            {
                "kind": deadline.kind.value,
                "title": deadline.title,
                "ballot": await _about(uow, deadline, bloc),
                "due": deadline.due_at,
                "done": len(units) - len(pending & set(units)),
                "total": len(units),
                "missing": [units[u] for u in sorted(pending) if u in units],
            }
        )
    if not rows:
        return 0
    items = []
    for membership, identity in await uow.identities.members_of_bloc(bloc.id):
        if not membership.has(Role.SECRETARIAT):
            continue
        text = services.renderer.render(
            identity.locale,
            "digest",
            bloc=bloc.name,
            day=day,
            rows=rows,
            tz=bloc.timezone,
        )
        items += await to_person(
            uow,
            identity.id,
            text,
            key=f"digest:{bloc.id}:{day.isoformat()}:{identity.id}",
            bloc_id=bloc.id,
            now=now,
        )
    queued += await uow.outbox.enqueue(items, now)
    return queued


# --- what members see and the secretariat sets: /deadlines --------------------------------


@dataclass(frozen=True, slots=True)
class DeadlineLine:
    number: int
    key: str
    kind: str
    title: str
    ballot: dict[str, Any] | None
    due: datetime
    done: int
    total: int
    missing: tuple[str, ...]
    acted: bool | None  # the actor's unit; None when the actor represents no unit
    action: Button | None  # its text is a strings.toml key

    @property
    def target_id(self) -> int:
        """The id of what the deadline is about (period, ballot, covenant, custom deadline)."""
        return int(self.key.split(":")[1])


@dataclass(frozen=True, slots=True)
class DeadlinesView:
    bloc: Bloc
    lines: tuple[DeadlineLine, ...]
    secretariat: bool
    unit: str | None

    @property
    def settings(self) -> ReminderSettings:
        return self.bloc.reminders

    @property
    def offsets(self) -> list[tuple[str, tuple[timedelta, ...]]]:
        return [(k.value, self.settings.offsets_for(k)) for k in DeadlineKind]


def _member_bloc(actor: Actor) -> int | Rejected:
    target = actor.current_bloc_id
    if target is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    return target


async def deadline_lines(
    uow: UnitOfWork, bloc: Bloc, now: datetime, unit_id: int | None
) -> list[DeadlineLine]:
    units = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
    lines = []
    for number, (source, deadline) in enumerate(await open_deadlines(uow, bloc, now), start=1):
        pending = await source.pending(uow, deadline) & set(units)
        lines.append(
            DeadlineLine(
                number=number,
                key=deadline.key,
                kind=deadline.kind.value,
                title=deadline.title,
                ballot=await _about(uow, deadline, bloc),
                due=deadline.due_at,
                done=len(units) - len(pending),
                total=len(units),
                missing=tuple(units[u] for u in sorted(pending)),
                acted=None if unit_id is None else unit_id not in pending,
                action=source.action(deadline),
            )
        )
    return lines


async def deadlines_view(services: Services, actor: Actor) -> DeadlinesView | Rejected:
    """The bloc's open deadlines: for a representative, whether the unit has acted (and the
    button to act); for the secretariat, done/total and who is missing, and the settings."""
    bloc_id = _member_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    membership = actor.membership(bloc_id)
    unit_id = (
        membership.unit_id
        if membership is not None and membership.has(Role.REPRESENTATIVE)
        else None
    )
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        lines = await deadline_lines(uow, bloc, services.clock.now(), unit_id)
        unit = await uow.blocs.unit(unit_id) if unit_id is not None else None
    return DeadlinesView(
        bloc, tuple(lines), actor.is_secretariat(bloc_id), unit.name if unit else None
    )


@dataclass(frozen=True, slots=True)
class DeadlineAdded:
    number: int
    title: str
    due: datetime
    tz: str
    told: int  # representatives the notice is queued for
    deadline_id: int


async def add_deadline(
    services: Services, actor: Actor, *, title: str, due_text: str
) -> DeadlineAdded | Rejected:
    """A deadline of the secretariat's own ("nộp danh sách đề nghị khen thưởng"): every
    representative is told now, with a button to acknowledge; units that have not are
    reminded at the custom offsets."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    title = clean(title)
    if not title:
        return Rejected(Reason.TITLE_MISSING)
    refused = refuse_long("deadline_title", title)
    if refused is not None:
        return refused
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        due = local_to_utc(due_text, bloc.timezone)
        if due is None:
            return Rejected(Reason.BAD_DATE, {"value": clean(due_text)})
        if due <= now:
            return Rejected(Reason.DEADLINE_PAST, {"value": clean(due_text)})
        added = await uow.deadlines.add(bloc_id, title, due, created_by=actor.identity.id, now=now)
        reps = await representatives(uow, bloc_id)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="deadline.added",
            deadline=added.id,
            title=title,
            due_at=due.isoformat(),
            told=len(reps),
        )
        notice = Notice(
            reps,
            "deadline_added_notice",
            {"title": title, "due": due, "tz": bloc.timezone, "bloc": bloc.name},
            buttons=(("t:button.acknowledge", f"dl:{added.id}:ack"),),
        )
        rows = await notice_rows(
            uow,
            services.renderer,
            notice,
            key=f"deadline:{added.id}:{{identity}}",
            bloc_id=bloc_id,
            now=now,
            web_url=services.web_url,
        )
        await uow.outbox.enqueue(rows, now)
        number = next(
            n
            for n, (_, d) in enumerate(await open_deadlines(uow, bloc, now), start=1)
            if d.key == f"custom:{added.id}"
        )
        await uow.commit()
    return DeadlineAdded(number, title, due, bloc.timezone, len(reps), added.id)


async def added_deadline(
    services: Services, actor: Actor, *, deadline_id: int
) -> DeadlineAdded | None:
    """A custom deadline as :func:`add_deadline` answered (how many were told, from its audit
    row), while it is open: the console's page after «Thêm», and every reload of it."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return None
    async with services.db.uow(read_only=True) as uow:
        deadline = await uow.deadlines.get(deadline_id)
        if deadline is None or deadline.bloc_id != bloc_id:
            return None
        bloc = await uow.blocs.require(bloc_id)
        found = await open_deadlines(uow, bloc, services.clock.now())
        entry = await last_done(uow, bloc_id, "deadline.added", deadline=deadline.id)
    number = next(
        (n for n, (_, d) in enumerate(found, start=1) if d.key == f"custom:{deadline.id}"), None
    )
    told = entry.details.get("told") if entry is not None else None
    if number is None or not isinstance(told, int):
        return None
    return DeadlineAdded(number, deadline.title, deadline.due_at, bloc.timezone, told, deadline.id)


@dataclass(frozen=True, slots=True)
class Acknowledged:
    title: str
    due: datetime
    tz: str
    unit: str
    first: bool  # False: the unit had acknowledged before (by `by`, at `at`)
    by: str
    at: datetime


async def acknowledge(
    services: Services, actor: Actor, *, deadline_id: int
) -> Acknowledged | Rejected:
    """A representative acknowledges a custom deadline for the unit (once per unit)."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        deadline = await uow.deadlines.get(deadline_id)
        if deadline is None or deadline.cancelled:
            return Rejected(Reason.UNKNOWN_DEADLINE)
        membership = actor.membership(deadline.bloc_id)
        if (
            membership is None
            or membership.unit_id is None
            or not membership.has(Role.REPRESENTATIVE)
        ):
            return Rejected(Reason.NOT_REPRESENTATIVE if actor.memberships else Reason.NOT_MEMBER)
        bloc = await uow.blocs.require(deadline.bloc_id)
        first = await uow.deadlines.acknowledge(
            deadline_id, membership.unit_id, actor.identity.id, now
        )
        if first:
            await record(
                uow,
                services,
                bloc_id=deadline.bloc_id,
                actor_identity_id=actor.identity.id,
                unit_id=membership.unit_id,
                action="deadline.acknowledged",
                deadline=deadline_id,
            )
        ack = (await uow.deadlines.acks(deadline_id))[membership.unit_id]
        by = await uow.identities.get(ack.identity_id)
        unit = await uow.blocs.unit(membership.unit_id)
        await uow.commit()
    return Acknowledged(
        deadline.title,
        deadline.due_at,
        bloc.timezone,
        unit.name if unit else "",
        first,
        by.display_name,
        ack.at,
    )


@dataclass(frozen=True, slots=True)
class ToCancel:
    deadline_id: int
    title: str
    due: datetime
    tz: str


async def deadline_to_cancel(services: Services, actor: Actor, *, ref: str) -> ToCancel | Rejected:
    """The custom deadline `/deadlines cancel N` names; the secretariat confirms with a button
    that carries its id (numbers move as deadlines pass; the id does not)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        found = await _numbered(uow, bloc, services.clock.now(), ref)
    if isinstance(found, Rejected):
        return found
    if found.kind is not DeadlineKind.CUSTOM:
        return Rejected(Reason.NOT_CUSTOM_DEADLINE, {"number": clean(ref)})
    return ToCancel(int(found.key.split(":")[1]), found.title, found.due_at, bloc.timezone)


async def cancel_deadline(services: Services, actor: Actor, *, deadline_id: int) -> str | Rejected:
    """Withdraw a custom deadline (reminders stop); its title, for the answer."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        deadline = await uow.deadlines.get(deadline_id, lock=True)
        if deadline is None or deadline.cancelled:
            return Rejected(Reason.UNKNOWN_DEADLINE)
        allowed = secretariat_bloc(actor, deadline.bloc_id)
        if isinstance(allowed, Rejected):
            return allowed
        await uow.deadlines.cancel(deadline_id, now)
        await record(
            uow,
            services,
            bloc_id=deadline.bloc_id,
            actor_identity_id=actor.identity.id,
            action="deadline.cancelled",
            deadline=deadline_id,
        )
        await uow.commit()
    return deadline.title


async def cancelled_deadline(services: Services, actor: Actor, *, deadline_id: int) -> str | None:
    """The title of a custom deadline of the actor's bloc that was withdrawn (the page after
    «Hủy hạn chót», and every reload of it), None for any other id."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return None
    async with services.db.uow(read_only=True) as uow:
        deadline = await uow.deadlines.get(deadline_id)
    if deadline is None or deadline.bloc_id != bloc_id or not deadline.cancelled:
        return None
    return deadline.title


async def _numbered(uow: UnitOfWork, bloc: Bloc, now: datetime, ref: str) -> Deadline | Rejected:
    found = await open_deadlines(uow, bloc, now)
    ref = clean(ref).lstrip("#")
    if not ref.isdecimal() or not 1 <= int(ref) <= len(found):
        return Rejected(Reason.UNKNOWN_DEADLINE_NUMBER, {"value": ref})
    return found[int(ref) - 1][1]


KIND_WORDS = {
    "report": DeadlineKind.REPORT,
    "baocao": DeadlineKind.REPORT,
    "ballot": DeadlineKind.BALLOT,
    "vote": DeadlineKind.BALLOT,
    "bieuquyet": DeadlineKind.BALLOT,
    "bophieu": DeadlineKind.BALLOT,
    "covenant": DeadlineKind.COVENANT,
    "giaouoc": DeadlineKind.COVENANT,
    "custom": DeadlineKind.CUSTOM,
    "khac": DeadlineKind.CUSTOM,
    "rieng": DeadlineKind.CUSTOM,
}


async def set_offsets(
    services: Services, actor: Actor, *, kind_text: str, offsets_text: str
) -> ReminderSettings | Rejected:
    """Change when one kind's reminders go ("7d, 3d, 1d, 2h"; "mặc định" restores)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    kind = KIND_WORDS.get(fold_diacritics(kind_text).replace(" ", "").replace("_", ""))
    if kind is None:
        return Rejected(Reason.BAD_DEADLINE_KIND, {"value": clean(kind_text)})
    if fold_diacritics(offsets_text).replace(" ", "") in {"macdinh", "default"}:
        offsets = None
    else:
        offsets = parse_offsets(offsets_text)
        if offsets is None:
            return Rejected(Reason.BAD_OFFSETS, {"value": clean(offsets_text)})
    return await _change_settings(
        services, actor, bloc_id, lambda s: s.with_offsets(kind, offsets), kind=kind.value
    )


async def set_quiet(services: Services, actor: Actor, *, text: str) -> ReminderSettings | Rejected:
    """Change the quiet hours ("21:00-07:00"; "tắt" for none)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    quiet = parse_quiet(text)
    if quiet is None:
        return Rejected(Reason.BAD_QUIET, {"value": clean(text)})
    return await _change_settings(
        services, actor, bloc_id, lambda s: ReminderSettings(s.offsets, quiet), kind="quiet"
    )


async def _change_settings(
    services: Services,
    actor: Actor,
    bloc_id: int,
    change: Callable[[ReminderSettings], ReminderSettings],
    *,
    kind: str,
) -> ReminderSettings:
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id, lock=True)
        settings = change(bloc.reminders)
        await uow.blocs.set_reminders(bloc_id, settings)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="reminders.changed",
            kind=kind,
            settings=settings.to_json(),
        )
        await uow.commit()
    return settings
