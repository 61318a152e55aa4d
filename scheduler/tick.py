"""The tick (design decision 9): every ~30 s, under one lock across workers, plan what is due
into the outbox and drain it. State lives in our tables, so a restart loses nothing: a
reminder planned before the stop is one outbox row (sent once), one missed while down is
planned at the next tick (collapsed into the latest offset), none after its deadline.

The lock is a PostgreSQL advisory lock (one worker ticks at a time), in-process on SQLite.
Without Redis only the lock holder sends (the rate budget lives in that process); with Redis
every worker may drain, sharing the budget in Redis.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import text

from bot.services.app import Services
from bot.services.ballot_times import BallotRun, run_ballot_times
from bot.services.deadlines import Planned, plan_digests, plan_reminders
from scheduler.sender import DrainStats, Sender
from storage.uow import Database

log = logging.getLogger(__name__)

TICK_LOCK = 0x7468_6964_7561_0001  # "thidua" + 1: the advisory lock key of the tick
TICK_SECONDS = 30


class TickLock:
    """One tick at a time: across processes on PostgreSQL, within the process on SQLite."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._local = asyncio.Lock()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[bool]:
        if self._local.locked():
            yield False
            return
        async with self._local:
            if self.db.engine.dialect.name == "sqlite":
                yield True
                return
            async with self.db.engine.connect() as conn:
                got = (
                    await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": TICK_LOCK})
                ).scalar_one()
                await conn.commit()
                try:
                    yield bool(got)
                finally:
                    if got:
                        await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": TICK_LOCK})
                        await conn.commit()


@dataclass(frozen=True, slots=True)
class TickReport:
    ticked: bool  # False: another worker holds the tick
    planned: Planned | None
    drained: DrainStats | None
    ballots: BallotRun | None = None


class Ticker:
    def __init__(
        self, services: Services, sender: Sender | None, *, shared_budget: bool = False
    ) -> None:
        self.services = services
        self.sender = sender
        self.shared_budget = shared_budget  # a Redis rate budget: every worker may send
        self.lock = TickLock(services.db)

    async def tick(self) -> TickReport:
        planned: Planned | None = None
        drained: DrainStats | None = None
        ballots: BallotRun | None = None
        async with self.lock.held() as held:
            if held:
                now = self.services.clock.now()
                ballots = await run_ballot_times(self.services, now)
                planned = await plan_reminders(self.services, now)
                await plan_digests(self.services, now)
                if self.sender is not None and not self.shared_budget:
                    drained = await self.sender.drain()
        if self.sender is not None and self.shared_budget:
            drained = await self.sender.drain()
        return TickReport(held, planned, drained, ballots)

    async def safe_tick(self) -> None:
        """The scheduled job: a failing tick is logged and the next one tries again."""
        try:
            await self.tick()
        except Exception:
            log.exception("tick failed")


def start_scheduler(ticker: Ticker, *, seconds: int = TICK_SECONDS) -> Any:
    """An APScheduler 3 AsyncIOScheduler (explicit UTC timezone) running the tick now and
    every `seconds`; overlapping runs are skipped, missed ones coalesced."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        ticker.safe_tick,
        "interval",
        seconds=seconds,
        max_instances=1,
        coalesce=True,
        id="tick",
        next_run_time=ticker.services.clock.now(),
    )
    scheduler.start()
    return scheduler
