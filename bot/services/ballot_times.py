"""Ballots that open and close at their times (design decision 9), run by the tick.

Closing comes first, so a tier that closes at 09:00 is counted before the next tier, due at
09:00 too, tries to open. The count is the same service as `/ballot close` (no acting
member: the result goes to the whole secretariat and the bloc's group, through the outbox
with keys `result:{ballot}:{identity}`). A ballot due to open opens only with the quorum;
otherwise the secretariat is told once per reason and the tick tries again until it opens,
the secretariat clears the schedule, or its closing time passes (then it is unscheduled and
the secretariat told).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.core.models import Bloc, Locale, Role
from bot.core.voting import BallotStatus
from bot.services import voting
from bot.services.app import Services
from bot.services.outbox import notice_rows, to_group
from bot.services.outcomes import Notice, Reason, Rejected
from storage.outbox_repos import Queued

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BallotRun:
    opened: int
    closed: int
    waiting: int  # due to open, refused (no quorum, an earlier tier undecided, …)


async def run_ballot_times(services: Services, now: datetime) -> BallotRun:
    opened = closed = waiting = 0
    async with services.db.uow() as uow:
        blocs = await uow.blocs.all()
    for bloc in blocs:
        async with services.db.uow() as uow:
            lines = list(enumerate(await uow.votes.ballots(bloc.id), start=1))
        for number, info in lines:
            b = info.ballot
            if b.status is BallotStatus.OPEN and b.closes_at is not None and b.closes_at <= now:
                closed += await _close(services, bloc, number, now)
        for number, info in lines:
            b = info.ballot
            if b.status is BallotStatus.DRAFT and b.opens_at is not None and b.opens_at <= now:
                if await _open(services, bloc, number, b.id, b.opens_at, b.closes_at, now):
                    opened += 1
                else:
                    waiting += 1
    return BallotRun(opened, closed, waiting)


async def _close(services: Services, bloc: Bloc, number: int, now: datetime) -> int:
    done = await voting.close_ballot_as(services, bloc.id, None, ref=str(number))
    if isinstance(done, Rejected):  # closed by hand a moment ago: nothing to do
        log.info("ballot %s of bloc %s not closed by the tick: %s", number, bloc.id, done.reason)
        return 0
    ballot_id = done.line.info.ballot.id
    context = done.group_text_context
    async with services.db.uow() as uow:
        rows: list[Queued] = []
        for notice in done.notices:
            rows += await notice_rows(
                uow,
                services.renderer,
                notice,
                key=f"result:{ballot_id}:{{identity}}",
                bloc_id=bloc.id,
                now=now,
            )
        rows += to_group(
            bloc.group_chat_id,
            services.renderer.render(Locale.VI, "ballot_result", **context),
            key=f"result:{ballot_id}:group",
            bloc_id=bloc.id,
            now=now,
        )
        await uow.outbox.enqueue(rows, now)
        await uow.commit()
    return 1


async def _open(
    services: Services,
    bloc: Bloc,
    number: int,
    ballot_id: int,
    opens_at: datetime,
    closes_at: datetime | None,
    now: datetime,
) -> bool:
    done: voting.Opened | Rejected
    if closes_at is not None and closes_at <= now:
        done = Rejected(Reason.DEADLINE_PAST)
    else:
        done = await voting.open_ballot_as(services, bloc.id, None, ref=str(number))
    async with services.db.uow() as uow:
        secretariat = tuple(
            i.id
            for m, i in await uow.identities.members_of_bloc(bloc.id)
            if m.has(Role.SECRETARIAT)
        )
        rows: list[Queued] = []
        if isinstance(done, Rejected):
            if done.reason is Reason.DEADLINE_PAST:
                # Its closing time came before it could open: unscheduled, the secretariat told.
                await uow.votes.set_schedule(ballot_id, None, None)
                template, key = "ballot_auto_missed", f"automissed:{ballot_id}:{{identity}}"
            else:
                template = "ballot_auto_waiting"
                key = f"autowait:{ballot_id}:{opens_at.isoformat()}:{done.reason}:{{identity}}"
            info = await uow.votes.ballot(ballot_id)
            assert info is not None
            names = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
            notice = Notice(
                secretariat,
                template,
                {
                    **done.detail,
                    "ballot": voting.ballot_line_context(info, number, names, bloc),
                    "reason": done.reason.value,
                },
            )
            rows += await notice_rows(
                uow, services.renderer, notice, key=key, bloc_id=bloc.id, now=now
            )
        else:
            for notice in done.notices:
                rows += await notice_rows(
                    uow,
                    services.renderer,
                    notice,
                    key=f"opened:{ballot_id}:{{identity}}",
                    bloc_id=bloc.id,
                    now=now,
                )
            told = Notice(
                secretariat, "ballot_auto_opened", {"ballot": done.ballot, "units": done.units}
            )
            rows += await notice_rows(
                uow,
                services.renderer,
                told,
                key=f"autoopened:{ballot_id}:{{identity}}",
                bloc_id=bloc.id,
                now=now,
            )
            rows += to_group(
                bloc.group_chat_id,
                services.renderer.render(
                    Locale.VI, "ballot_group_opened", ballot=done.ballot, units=done.units
                ),
                key=f"opened:{ballot_id}:group",
                bloc_id=bloc.id,
                now=now,
            )
        await uow.outbox.enqueue(rows, now)
        await uow.commit()
    return not isinstance(done, Rejected)
