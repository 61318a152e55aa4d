"""Deadlines of every kind and the reminders the tick plans for them (design decision 9).

A deadline source answers two questions for its kind: which deadlines are open, and which
units have not acted on one. Reminders go, in private chat, to the representatives of those
units only, at the kind's offsets (quiet hours applied, missed ones collapsed); each is one
outbox row with the producer's dedup key `remind:{deadline}:{identity}:{offset}`, so planning
it twice — two ticks, two workers, a restart — sends it once. The covenant (next issue) plugs
in as one more source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.deadlines import (
    DEFAULT_OFFSETS,
    DEFAULT_QUIET,
    Deadline,
    DeadlineKind,
    digest_due,
    remaining,
    reminder_due,
)
from bot.core.models import Bloc, Role
from bot.core.ports import Button
from bot.core.voting import BallotStatus
from bot.services.app import Services
from bot.services.outbox import to_person
from bot.services.voting import ballot_context
from storage.uow import UnitOfWork


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
            Deadline(f"period:{p.id}", bloc.id, self.kind, p.title, p.deadline)
            for p in await uow.reports.periods(bloc.id)
            if p.deadline > now
        ]

    async def pending(self, uow: UnitOfWork, deadline: Deadline) -> set[int]:
        period_id = int(deadline.key.split(":")[1])
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
                found.append(Deadline(f"ballot:{info.ballot.id}", bloc.id, self.kind, "", closes))
        return found

    async def pending(self, uow: UnitOfWork, deadline: Deadline) -> set[int]:
        ballot_id = int(deadline.key.split(":")[1])
        units = {u.id for u in await uow.blocs.units(deadline.bloc_id)}
        return units - await uow.votes.voted_units(ballot_id)

    def action(self, deadline: Deadline) -> Button | None:
        return Button("t:button.vote_now", f"vt:{deadline.key.split(':')[1]}:show:0")


SOURCES: tuple[DeadlineSource, ...] = (ReportSource(), BallotSource())


@dataclass(frozen=True, slots=True)
class Planned:
    deadlines: int
    queued: int  # new outbox rows (a reminder planned before is not counted again)


async def plan_reminders(services: Services, now: datetime) -> Planned:
    """Queue every reminder due now, for every bloc, to the units that have not acted."""
    count = queued = 0
    async with services.db.uow() as uow:
        for bloc in await uow.blocs.all():
            members = await uow.identities.members_of_bloc(bloc.id)
            units = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
            for source in SOURCES:
                for deadline in await source.deadlines(uow, bloc, now):
                    offset = reminder_due(
                        now,
                        deadline.due_at,
                        DEFAULT_OFFSETS[deadline.kind],
                        bloc.timezone,
                        DEFAULT_QUIET,
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
                        if membership.unit_id not in pending or not membership.has(
                            Role.REPRESENTATIVE
                        ):
                            continue
                        text = services.renderer.render(
                            identity.locale,
                            "reminder",
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
        await uow.commit()
    return Planned(count, queued)


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
        for bloc in await uow.blocs.all():
            day = digest_due(now, bloc.timezone)
            if day is None:
                continue
            units = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
            rows = []
            for source in SOURCES:
                for deadline in await source.deadlines(uow, bloc, now):
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
                continue
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
        await uow.commit()
    return queued
