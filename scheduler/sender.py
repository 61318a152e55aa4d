"""Drain the outbox (design decision 10): claim with a lease, send within the shared budget,
then mark. At-least-once: only rows in flight when a process dies can go twice.

A 429 pauses every sender for its retry_after and puts the row back (not an attempt); a 5xx
or a network error is retried with backoff, up to MAX_ATTEMPTS; a 403 marks the member
unreachable and tells the bloc's secretariat once; a 400 fails the row.

A platform with a monthly send quota (Zalo) is rationed: each round asks the quota how much
of its queue may be claimed (bot/services/zalo_quota.py — from 90% only urgent rows such as
reminders, from 100% none). Rows not claimed are held, not dropped: they stay queued and go
out at a later drain, next month or once the quota is raised. Other platforms are untouched.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.models import Role
from bot.core.ports import Clock, SendStatus, Transport
from bot.render import Renderer
from bot.services.outbox import to_person
from scheduler.ratelimit import RateLimiter
from storage.outbox_repos import Claimed, Queued, Ration
from storage.uow import Database, UnitOfWork

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … at most 5 minutes."""
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


class Rationing(Protocol):
    """A platform's monthly quota, as the sender sees it (bot/services/zalo_quota.py)."""

    async def ration(self) -> Ration | None:
        """How much of the platform's queue may be claimed now (None: all of it)."""
        ...


@dataclass
class DrainStats:
    sent: int = 0
    retried: int = 0
    rate_limited: int = 0
    unreachable: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Sender:
    def __init__(
        self,
        db: Database,
        transport: Transport,
        limiter: RateLimiter,
        clock: Clock,
        renderer: Renderer,
        *,
        worker: str = "sender",
        concurrency: int = 32,
        quota: Rationing | None = None,
    ) -> None:
        self.db = db
        self.transport = transport
        self.limiter = limiter
        self.clock = clock
        self.renderer = renderer
        self.worker = worker
        self.quota = quota
        # A database bound to one connection (a test's outer transaction) takes one unit of
        # work at a time.
        self.concurrency = 1 if db.bound else concurrency

    async def drain(self, *, batch: int = 200, max_rounds: int | None = None) -> DrainStats:
        """Send every due row (claiming `batch` at a time) until none is due."""
        stats = DrainStats()
        gate = asyncio.Semaphore(self.concurrency)
        rounds = 0
        while max_rounds is None or rounds < max_rounds:
            rounds += 1
            # Asked each round: the last round's sends may have brought the quota low.
            ration = await self.quota.ration() if self.quota is not None else None
            async with self.db.uow() as uow:
                claimed = await uow.outbox.claim(
                    self.clock.now(), lease=LEASE, limit=batch, worker=self.worker, ration=ration
                )
                await uow.commit()
            if not claimed:
                break
            await asyncio.gather(*(self._guarded(gate, row, stats) for row in claimed))
        return stats

    async def _guarded(self, gate: asyncio.Semaphore, row: Claimed, stats: DrainStats) -> None:
        async with gate:
            await self._send(row, stats)

    async def _send(self, row: Claimed, stats: DrainStats) -> None:
        await self.limiter.acquire(row.message.chat_id, group=row.is_group)
        result = await self.transport.transmit(row.message)
        now = self.clock.now()
        async with self.db.uow() as uow:
            if result.status is SendStatus.SENT:
                await uow.outbox.mark_sent(row.id, now)
                stats.sent += 1
            elif result.status is SendStatus.RETRY_AFTER:
                stats.rate_limited += 1
                await self.limiter.pause(result.retry_after)
                await uow.outbox.release(
                    row.id,
                    now + timedelta(seconds=result.retry_after),
                    error="429",
                    count_attempt=False,
                )
            elif result.status is SendStatus.TRANSIENT and row.attempts + 1 < MAX_ATTEMPTS:
                stats.retried += 1
                await uow.outbox.release(
                    row.id, now + backoff(row.attempts + 1), error=result.error, count_attempt=True
                )
            elif result.status is SendStatus.UNREACHABLE:
                stats.unreachable += 1
                await uow.outbox.mark_failed(row.id, now, "unreachable")
                await self._unreachable(uow, row, now)
            else:
                stats.failed += 1
                stats.errors.append(result.error)
                log.warning("outbox row %s not delivered: %s", row.id, result.status.value)
                await uow.outbox.mark_failed(row.id, now, result.error or result.status.value)
            await uow.commit()

    async def _unreachable(self, uow: UnitOfWork, row: Claimed, now: datetime) -> None:
        """Mark the account unreachable and tell the secretariat of the row's bloc — or, for a
        notice not tied to one bloc, of each bloc the person belongs to — once per member."""
        await uow.identities.mark_unreachable(row.message.platform, row.message.chat_id)
        if row.is_group or row.identity_id is None:
            return
        blocs = (
            [row.bloc_id]
            if row.bloc_id is not None
            else sorted({m.bloc_id for m in await uow.identities.memberships(row.identity_id)})
        )
        notices: list[Queued] = []
        for bloc_id in blocs:
            notices += await self._tell_secretariat(uow, bloc_id, row, now)
        await uow.outbox.enqueue(notices, now)

    async def _tell_secretariat(
        self, uow: UnitOfWork, bloc_id: int, row: Claimed, now: datetime
    ) -> list[Queued]:
        members = await uow.identities.members_of_bloc(bloc_id)
        person = next((i for _, i in members if i.id == row.identity_id), None)
        name = person.display_name if person is not None else row.message.chat_id
        unit = next((m.unit_id for m, i in members if i.id == row.identity_id), None)
        units = {u.id: u.name for u in await uow.blocs.units(bloc_id)}
        notices: list[Queued] = []
        for membership, identity in members:
            if not membership.has(Role.SECRETARIAT) or identity.id == row.identity_id:
                continue
            text = self.renderer.render(
                identity.locale,
                "member_unreachable",
                person=name,
                unit=units.get(unit, "") if unit else "",
            )
            notices += await to_person(
                uow,
                identity.id,
                text,
                key=f"unreachable:{bloc_id}:{row.identity_id}:{identity.id}",
                bloc_id=bloc_id,
                now=now,
            )
        return notices
