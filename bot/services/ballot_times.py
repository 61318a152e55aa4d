"""Ballots that open and close at their times (design decision 9), run by the tick.

Closing comes first, so a tier that closes at 09:00 is counted before the next tier, due at
09:00 too, tries to open. The count is the same service as `/ballot close` (no acting
member: the result goes to the whole secretariat and the bloc's group); opening is the same
service as `/ballot open`. Their messages are queued in the outbox in the same transaction
as the change (by those services, and `autoopened:{ballot}:{identity}` for the secretariat
here), so a crash never leaves a ballot opened or counted without them. Times are checked
again under the ballot's lock: an extension or a cleared schedule committed a moment ago
wins. A ballot due to open opens only with the quorum; otherwise the secretariat is told
once per reason and the tick tries again until it opens, the secretariat clears the
schedule, or its closing time passes (then it is unscheduled and the secretariat told).
One ballot that fails is logged and skipped; the others go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.core.models import Bloc, Role
from bot.core.voting import BallotStatus
from bot.services import voting
from bot.services.app import Services
from bot.services.outbox import notice_rows
from bot.services.outcomes import Notice, Reason, Rejected
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# Refusals that mean "someone acted meanwhile" (opened, closed or unscheduled it by hand):
# nothing to tell anyone.
SETTLED = {Reason.NOT_SCHEDULED, Reason.BALLOT_NOT_DRAFT, Reason.BALLOT_NOT_OPEN}


@dataclass(frozen=True, slots=True)
class BallotRun:
    opened: int
    closed: int
    waiting: int  # due to open, refused (no quorum, an earlier tier undecided, …)
    failed: int = 0  # raised: logged, tried again at the next tick


async def run_ballot_times(services: Services, now: datetime) -> BallotRun:
    opened = closed = waiting = failed = 0
    async with services.db.uow() as uow:
        blocs = await uow.blocs.all()
    for bloc in blocs:
        async with services.db.uow() as uow:
            lines = list(enumerate(await voting.current_ballots(uow, bloc.id), start=1))
        for number, info in lines:
            b = info.ballot
            if b.status is BallotStatus.OPEN and b.closes_at is not None and b.closes_at <= now:
                try:
                    closed += await _close(services, bloc, number)
                except Exception:
                    failed += 1
                    log.exception("closing ballot %s of bloc %s failed", b.id, bloc.id)
        for number, info in lines:
            b = info.ballot
            if b.status is BallotStatus.DRAFT and b.opens_at is not None and b.opens_at <= now:
                try:
                    if await _open(services, bloc, number, b.id, b.closes_at, now):
                        opened += 1
                    else:
                        waiting += 1
                except Exception:
                    failed += 1
                    log.exception("opening ballot %s of bloc %s failed", b.id, bloc.id)
    return BallotRun(opened, closed, waiting, failed)


async def _close(services: Services, bloc: Bloc, number: int) -> int:
    done = await voting.close_ballot_as(services, bloc.id, None, ref=str(number), scheduled=True)
    if isinstance(done, Rejected):
        if done.reason not in SETTLED:
            log.warning("ballot %s of bloc %s not counted: %s", number, bloc.id, done.reason)
        return 0
    return 1


async def _secretariat(uow: UnitOfWork, bloc_id: int) -> tuple[int, ...]:
    return tuple(
        i.id for m, i in await uow.identities.members_of_bloc(bloc_id) if m.has(Role.SECRETARIAT)
    )


async def _open(
    services: Services,
    bloc: Bloc,
    number: int,
    ballot_id: int,
    closes_at: datetime | None,
    now: datetime,
) -> bool:
    async def queue(uow: UnitOfWork, done: voting.Opened) -> None:
        told = Notice(
            await _secretariat(uow, bloc.id),
            "ballot_auto_opened",
            {"ballot": done.ballot, "units": done.units},
        )
        rows = await notice_rows(
            uow,
            services.renderer,
            told,
            key=f"autoopened:{ballot_id}:{{identity}}",
            bloc_id=bloc.id,
            now=now,
            web_url=services.web_url,
        )
        await uow.outbox.enqueue(rows, now)

    if closes_at is not None and closes_at <= now:  # whatever the quorum: too late to open
        await _tell_why(services, bloc, number, ballot_id, Rejected(Reason.DEADLINE_PAST), now)
        return False
    done = await voting.open_ballot_as(
        services, bloc.id, None, ref=str(number), scheduled=True, before_commit=queue
    )
    if not isinstance(done, Rejected):
        return True
    if done.reason in SETTLED:
        return False
    await _tell_why(services, bloc, number, ballot_id, done, now)
    return False


async def _tell_why(
    services: Services, bloc: Bloc, number: int, ballot_id: int, refused: Rejected, now: datetime
) -> None:
    """Tell the secretariat why a scheduled ballot did not open (once per schedule and
    reason); past its closing time, unschedule it."""
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(ballot_id, lock=True)
        assert info is not None
        opens_at = info.ballot.opens_at
        if info.ballot.status is not BallotStatus.DRAFT or opens_at is None or opens_at > now:
            return  # opened or unscheduled by hand meanwhile
        stamp = opens_at.isoformat()
        if refused.reason is Reason.DEADLINE_PAST:
            closes_at = info.ballot.closes_at
            if closes_at is None or closes_at > now:
                return  # rescheduled meanwhile
            # Its closing time came before it could open: unscheduled, the secretariat told.
            await uow.votes.set_schedule(ballot_id, None, None)
            template, key = "ballot_auto_missed", f"automissed:{ballot_id}:{stamp}:{{identity}}"
        else:
            template = "ballot_auto_waiting"
            key = f"autowait:{ballot_id}:{stamp}:{refused.reason}:{{identity}}"
        names = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
        notice = Notice(
            await _secretariat(uow, bloc.id),
            template,
            {
                **refused.detail,
                "ballot": voting.ballot_line_context(info, number, names, bloc),
                "reason": refused.reason.value,
            },
        )
        rows = await notice_rows(
            uow,
            services.renderer,
            notice,
            key=key,
            bloc_id=bloc.id,
            now=now,
            web_url=services.web_url,
        )
        await uow.outbox.enqueue(rows, now)
        await uow.commit()
