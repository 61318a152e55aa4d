"""A secret ballot's tap or cast that has to wait while a colleague's cast or the count
commits: it then sees what was committed (voted, closed) and writes nothing sealed after it.

On PostgreSQL the waits are real row locks: the test holds a lock from a connection of its
own, starts the racing calls, sees them wait (pg_stat_activity), then lets them go in a chosen
order. SQLite has one writer (every transaction begins IMMEDIATE): the second call starts
after the first committed, and must come to the same answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.voting import CastRejection, Choice
from bot.services import voting as svc
from bot.services.outcomes import Reason, Rejected
from storage.uow import Database
from tests.storage.test_voting_concurrency import _services, make_bloc, sealed_rows

# These read PostgreSQL's files and depend on its vacuum horizon, which a parallel worker's
# sessions can hold back: they run on their own after the parallel run (make test).
pytestmark = pytest.mark.serial

ALREADY_VOTED = CastRejection.ALREADY_VOTED.value
CLOSED = CastRejection.CLOSED.value


def _is_pg(db: Database) -> bool:
    return db.engine.dialect.name == "postgresql"


class Held:
    """A row lock taken by a transaction of the test's own, until released."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    @classmethod
    async def take(cls, db: Database, sql: str, **params: Any) -> Held:
        conn = await db.engine.connect()
        locked = (await conn.execute(text(sql), params)).all()
        assert locked, sql  # the row exists and is now locked
        return cls(conn)

    async def release(self) -> None:
        await self.conn.rollback()
        await self.conn.close()


async def waiting_for_locks(db: Database, count: int) -> None:
    """Until `count` sessions of the database wait for a lock (each poll a new snapshot)."""
    async with db.engine.connect() as conn:
        while True:
            found = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            ).scalar_one()
            await conn.rollback()
            if found >= count:
                return
            await asyncio.sleep(0.01)


def _refused(outcome: object, why: str) -> None:
    assert isinstance(outcome, Rejected), outcome
    assert (outcome.reason, outcome.detail["why"]) == (Reason.CAST, why)


async def test_a_tap_waiting_for_a_colleagues_cast_is_refused_and_leaves_no_draft(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    setup = await make_bloc(services, units=4, reps_per_unit=2, secret=True, quota=3)
    ballot, (caster, tapper) = setup.ballot, setup.reps[0]
    unit = setup.units[0]

    cast_call = svc.cast_vote(services, caster, ballot_id=ballot, choice=Choice((1,)))
    tap_call = svc.toggle(services, tapper, ballot_id=ballot, index=2)
    if _is_pg(committed_db):
        # The cast holds the ballot and waits for the unit; the tap comes meanwhile (the
        # unit's stale keyboard), then the cast goes on and commits first.
        unit_lock = await Held.take(
            committed_db, "SELECT id FROM unit WHERE id = :u FOR UPDATE", u=unit
        )
        casting = asyncio.create_task(cast_call)
        await waiting_for_locks(committed_db, 1)
        tapping = asyncio.create_task(tap_call)
        await waiting_for_locks(committed_db, 2)
        await unit_lock.release()
        cast, tap = await casting, await tapping
    else:
        cast = await cast_call
        tap = await tap_call

    assert isinstance(cast, svc.Accepted), cast
    _refused(tap, ALREADY_VOTED)
    rows = await sealed_rows(services, ballot)
    # One paper in the box, no sealed selection left for a unit that has voted.
    assert (rows.register, len(rows.box), rows.drafts) == ([unit], 1, {})


async def test_a_tap_waiting_while_the_count_commits_is_refused_and_leaves_no_draft(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    setup = await make_bloc(services, units=4, reps_per_unit=1, secret=True, quota=3)
    ballot = setup.ballot
    voter, tapper = setup.reps[1][0], setup.reps[0][0]
    done = await svc.cast_vote(services, voter, ballot_id=ballot, choice=Choice((0,)))
    assert isinstance(done, svc.Accepted), done
    # The tapping unit had a selection before the count: the tap after it must not
    # bring one back.
    assert isinstance(await svc.toggle(services, tapper, ballot_id=ballot, index=1), svc.VoteView)

    close_call = svc.close_ballot(services, setup.secretary, ref="1")
    tap_call = svc.toggle(services, tapper, ballot_id=ballot, index=2)
    if _is_pg(committed_db):
        # The count locks the ballot, then waits to empty the box (a box row is held); the
        # tap starts meanwhile, having read the ballot while it was still open, and would
        # also wait for its unit. The count commits, then the unit is let go.
        box_lock = await Held.take(
            committed_db, "SELECT id FROM ballot_box WHERE ballot_id = :b FOR UPDATE", b=ballot
        )
        unit_lock = await Held.take(
            committed_db, "SELECT id FROM unit WHERE id = :u FOR UPDATE", u=setup.units[0]
        )
        closing = asyncio.create_task(close_call)
        await waiting_for_locks(committed_db, 1)
        tapping = asyncio.create_task(tap_call)
        await waiting_for_locks(committed_db, 2)
        await box_lock.release()
        closed = await closing
        await unit_lock.release()
        tap = await tapping
    else:
        closed = await close_call
        tap = await tap_call

    assert isinstance(closed, svc.Closed), closed
    assert closed.result.returned == 1
    _refused(tap, CLOSED)
    rows = await sealed_rows(services, ballot)
    assert (rows.box, rows.drafts, len(rows.counted)) == ([], {}, 1)
    await committed_db.purged()


async def test_a_cast_waiting_for_the_count_sees_the_ballot_closed(
    committed_db: Database, tmp_path: Path
) -> None:
    """The cast read the ballot (open) before it waited for the ballot's lock: after the
    wait it must read the ballot again, not the copy it loaded first."""
    services = _services(committed_db, tmp_path)
    setup = await make_bloc(services, units=4, reps_per_unit=1, secret=True, quota=3)
    ballot = setup.ballot
    first, late = setup.reps[1][0], setup.reps[2][0]
    done = await svc.cast_vote(services, first, ballot_id=ballot, choice=Choice((0,)))
    assert isinstance(done, svc.Accepted), done

    close_call = svc.close_ballot(services, setup.secretary, ref="1")
    cast_call = svc.cast_vote(services, late, ballot_id=ballot, choice=Choice((0, 1)))
    if _is_pg(committed_db):
        box_lock = await Held.take(
            committed_db, "SELECT id FROM ballot_box WHERE ballot_id = :b FOR UPDATE", b=ballot
        )
        closing = asyncio.create_task(close_call)
        await waiting_for_locks(committed_db, 1)
        casting = asyncio.create_task(cast_call)
        await waiting_for_locks(committed_db, 2)  # the cast waits for the ballot's lock
        await box_lock.release()
        closed, cast = await closing, await casting
    else:
        closed = await close_call
        cast = await cast_call

    assert isinstance(closed, svc.Closed), closed
    _refused(cast, CLOSED)
    # Exactly what was counted is registered; nothing was dropped in the box afterwards.
    rows = await sealed_rows(services, ballot)
    assert rows.register == [setup.units[1]]
    assert (rows.box, rows.drafts, len(rows.counted)) == ([], {}, 1)
    assert closed.result.returned == 1
    await committed_db.purged()
