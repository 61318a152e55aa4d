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

# The tick's advisory lock: one per schema (advisory locks are database-wide, so two
# deployments, or two test sessions, in separate schemas of one database do not block each
# other; the workers of one deployment share its schema, hence the lock).
_KEY = "hashtextextended('thidua-tick:' || current_schema(), 0)"
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
                    await conn.execute(text(f"SELECT pg_try_advisory_lock({_KEY})"))
                ).scalar_one()
                await conn.commit()
                try:
                    yield bool(got)
                finally:
                    if got:
                        await conn.execute(text(f"SELECT pg_advisory_unlock({_KEY})"))
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
        self._dirty = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    async def tick(self) -> TickReport:
        planned: Planned | None = None
        drained: DrainStats | None = None
        ballots: BallotRun | None = None
        async with self.lock.held() as held:
            if held:
                now = self.services.clock.now()
                # Each step on its own: one that fails is logged, and sending still happens
                # (the notices of every command go through the outbox too).
                try:
                    ballots = await run_ballot_times(self.services, now)
                except Exception:
                    log.exception("ballot times failed")
                try:
                    planned = await plan_reminders(self.services, now)
                    await plan_digests(self.services, now)
                except Exception:
                    log.exception("planning failed")
                if self.sender is not None and not self.shared_budget:
                    drained = await self.sender.drain()
        if self.sender is not None and self.shared_budget:
            drained = await self.sender.drain()
        return TickReport(held, planned, drained, ballots)

    async def flush(self) -> None:
        """A command queued messages: send them now, in the background, rather than at the
        next tick. Only a process that may send does (with Redis any; otherwise whoever takes
        the tick lock — busy, it tries again each second for a tick's length)."""
        if self.sender is None:
            return
        self._dirty.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())

    async def _flush_loop(self) -> None:
        assert self.sender is not None
        tries = 0
        while self._dirty.is_set() and tries < TICK_SECONDS:
            self._dirty.clear()
            try:
                if self.shared_budget:
                    await self.sender.drain()
                    continue
                async with self.lock.held() as held:
                    if held:
                        await self.sender.drain()
                        continue
            except Exception:
                log.exception("sending the outbox failed")
                return
            tries += 1  # the tick holds the lock: it drains too; look again in a second
            self._dirty.set()
            await asyncio.sleep(1)

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

    ticker.services.outbox_flush = ticker.flush
    return scheduler
