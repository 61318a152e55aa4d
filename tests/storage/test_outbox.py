"""The outbox on both backends: enqueue once per dedup key; claim only rows that are due and
not held by a live lease (never sent or failed ones); an expired lease can be claimed again;
concurrent claims never hand out the same row (FOR UPDATE SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.core.models import Platform
from bot.core.ports import Button, OutgoingMessage
from storage.outbox_repos import Claimed, Queued
from storage.tables import OutboxRow
from storage.uow import Database
from tests.conftest import START

LEASE = timedelta(seconds=60)


def queued(
    key: str,
    *,
    not_before: datetime = START,
    chat: str = "2001",
    text: str = "Nhắc nhở",
    buttons: tuple[tuple[Button, ...], ...] = (),
    is_group: bool = False,
) -> Queued:
    return Queued(
        dedup_key=key,
        message=OutgoingMessage(Platform.TELEGRAM, chat, text, buttons),
        not_before=not_before,
        is_group=is_group,
    )


async def enqueue(db: Database, items: list[Queued]) -> int:
    async with db.uow() as uow:
        new = await uow.outbox.enqueue(items, START)
        await uow.commit()
    return new


async def claim(db: Database, now: datetime, worker: str, limit: int = 100) -> list[Claimed]:
    async with db.uow() as uow:
        claimed = await uow.outbox.claim(now, lease=LEASE, limit=limit, worker=worker)
        await uow.commit()
    return claimed


async def rows(db: Database) -> dict[str, OutboxRow]:
    async with db.uow() as uow:
        found = (await uow.session.exec(select(OutboxRow).order_by(col(OutboxRow.id)))).all()
        uow.session.expunge_all()  # keep the loaded values past the unit of work's rollback
    return {r.dedup_key: r for r in found}


def keys(claimed: list[Claimed]) -> list[str]:
    return [c.dedup_key for c in claimed]


# ------------------------------------------------------------------ enqueue


async def test_enqueue_inserts_each_dedup_key_once(db: Database) -> None:
    first = [queued(f"remind:7:{i}:P3D", chat=str(2000 + i)) for i in range(3)]
    assert await enqueue(db, first) == 3

    # Planned again (a second tick, a restart): same keys, other text; plus one new row.
    again = [queued(q.dedup_key, chat=q.message.chat_id, text="khác") for q in first]
    assert await enqueue(db, [*again, queued("remind:7:9:P3D", chat="2009")]) == 1
    assert await enqueue(db, again) == 0
    assert await enqueue(db, []) == 0

    stored = await rows(db)
    assert sorted(stored) == sorted([*keys_of(first), "remind:7:9:P3D"])
    assert all(stored[q.dedup_key].text == "Nhắc nhở" for q in first)  # the first one wins
    async with db.uow() as uow:
        assert await uow.outbox.pending() == 4
        assert await uow.outbox.exists("remind:7:0:P3D")
        assert not await uow.outbox.exists("remind:7:0:P1D")


def keys_of(items: list[Queued]) -> list[str]:
    return [q.dedup_key for q in items]


async def test_enqueue_the_same_key_twice_in_one_batch_inserts_once(db: Database) -> None:
    assert (
        await enqueue(db, [queued("digest:1:2024-11-25:5"), queued("digest:1:2024-11-25:5")]) == 1
    )
    assert list(await rows(db)) == ["digest:1:2024-11-25:5"]


async def test_claim_returns_the_message_as_queued(db: Database) -> None:
    buttons = (
        (Button("Nộp báo cáo", callback_data="report:3"),),
        (Button("Mở", url="https://example.org/x"), Button("Để sau", callback_data="later")),
    )
    await enqueue(
        db,
        [
            Queued(
                dedup_key="announce:1:1",
                message=OutgoingMessage(Platform.TELEGRAM, "-100123", "<b>Thông báo</b>", buttons),
                not_before=START,
                is_group=True,
            )
        ],
    )
    (got,) = await claim(db, START, "w1")
    assert got.message == OutgoingMessage(
        Platform.TELEGRAM, "-100123", "<b>Thông báo</b>", buttons
    )
    assert got.is_group
    assert got.attempts == 0
    assert (got.bloc_id, got.identity_id) == (None, None)
    row = (await rows(db))["announce:1:1"]
    assert row.claimed_by == "w1"
    assert row.claimed_until == START + LEASE


# ------------------------------------------------------------------ claim


async def test_claim_skips_rows_not_due_leased_sent_or_failed(db: Database) -> None:
    now = START
    await enqueue(
        db,
        [
            queued("sent", not_before=now - timedelta(minutes=5)),
            queued("failed", not_before=now - timedelta(minutes=4)),
            queued("leased", not_before=now - timedelta(minutes=3)),
            queued("due", not_before=now - timedelta(minutes=2)),
            queued("due-now", not_before=now),
            queued("future", not_before=now + timedelta(seconds=1)),
        ],
    )
    # The earliest three go to another worker; one is sent, one failed, one stays leased.
    first = await claim(db, now, "other", limit=3)
    assert keys(first) == ["sent", "failed", "leased"]
    ids = {c.dedup_key: c.id for c in first}
    async with db.uow() as uow:
        await uow.outbox.mark_sent(ids["sent"], now)
        await uow.outbox.mark_failed(ids["failed"], now, "Bad Request: chat not found")
        await uow.commit()

    assert keys(await claim(db, now, "me")) == ["due", "due-now"]
    assert await claim(db, now, "me") == []  # now held by "me"

    stored = await rows(db)
    assert stored["leased"].claimed_by == "other"
    assert stored["future"].claimed_until is None
    assert stored["sent"].sent_at == now
    assert stored["sent"].claimed_by is None
    assert stored["failed"].failed_at == now
    assert stored["failed"].last_error == "Bad Request: chat not found"
    async with db.uow() as uow:
        assert await uow.outbox.pending() == 4  # leased, due, due-now, future

    # Once the future row is due it is claimed; sent and failed rows never come back.
    later = now + timedelta(hours=1)
    assert keys(await claim(db, later, "me")) == ["leased", "due", "due-now", "future"]


async def test_claim_honours_the_limit_and_the_order_of_due_time(db: Database) -> None:
    await enqueue(
        db, [queued(f"r{i}", not_before=START - timedelta(seconds=i)) for i in range(10)]
    )
    assert keys(await claim(db, START, "w", limit=4)) == ["r9", "r8", "r7", "r6"]
    assert keys(await claim(db, START, "w", limit=4)) == ["r5", "r4", "r3", "r2"]
    assert keys(await claim(db, START, "w", limit=4)) == ["r1", "r0"]


async def test_an_expired_lease_can_be_claimed_again(db: Database) -> None:
    await enqueue(db, [queued("a"), queued("b")])
    dead = await claim(db, START, "dead")
    assert keys(dead) == ["a", "b"]
    async with db.uow() as uow:  # "b" was delivered and marked before the worker died
        await uow.outbox.mark_sent(dead[1].id, START)
        await uow.commit()
    assert await claim(db, START + LEASE - timedelta(seconds=1), "live") == []
    again = await claim(db, START + LEASE + timedelta(seconds=1), "live")
    assert keys(again) == ["a"]
    stored = await rows(db)
    assert stored["a"].claimed_by == "live"
    assert stored["a"].claimed_until == START + LEASE + timedelta(seconds=1) + LEASE


async def test_release_puts_a_row_back_and_counts_attempts_only_when_asked(db: Database) -> None:
    await enqueue(db, [queued("r")])
    (row,) = await claim(db, START, "w")
    later = START + timedelta(seconds=7)
    async with db.uow() as uow:
        await uow.outbox.release(row.id, later, error="429", count_attempt=False)
        await uow.commit()
    stored = (await rows(db))["r"]
    assert (stored.attempts, stored.not_before, stored.claimed_until) == (0, later, None)
    assert stored.last_error == "429"

    assert await claim(db, later - timedelta(seconds=1), "w") == []
    (row,) = await claim(db, later, "w")
    async with db.uow() as uow:
        await uow.outbox.release(
            row.id, later + timedelta(seconds=1), error="500", count_attempt=True
        )
        await uow.commit()
    (row,) = await claim(db, later + timedelta(seconds=1), "w")
    assert row.attempts == 1


# ------------------------------------------------------------------ concurrency


async def test_concurrent_claimers_never_share_a_row(committed_db: Database) -> None:
    """Eight workers claiming in small batches at once: each row goes to exactly one."""
    await enqueue(committed_db, [queued(f"r{i:03}", chat=str(3000 + i)) for i in range(150)])
    taken: dict[str, list[str]] = {}

    async def worker(name: str) -> None:
        while batch := await claim(committed_db, START, name, limit=7):
            taken[name] = [*taken.get(name, []), *keys(batch)]
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(f"w{i}") for i in range(8)))
    everything = [k for ks in taken.values() for k in ks]
    assert sorted(everything) == [f"r{i:03}" for i in range(150)]  # once each, none left
    stored = await rows(committed_db)
    assert all(stored[k].claimed_by == w for w, ks in taken.items() for k in ks)


@pytest.mark.parametrize("committed_db", ["postgresql"], indirect=True)
async def test_postgresql_claim_skips_rows_locked_by_an_open_claim(committed_db: Database) -> None:
    """Two claims in two open transactions at once: the second neither waits for the first
    nor returns its rows (FOR UPDATE SKIP LOCKED), although the first has not committed."""
    await enqueue(committed_db, [queued(f"r{i:03}", chat=str(3000 + i)) for i in range(100)])
    async with committed_db.uow() as first, committed_db.uow() as second:
        a = await first.outbox.claim(START, lease=LEASE, limit=60, worker="a")
        # A plain FOR UPDATE would block here until `first` ends: the guard turns that into
        # a failure instead of a hang.
        b = await asyncio.wait_for(
            second.outbox.claim(START, lease=LEASE, limit=60, worker="b"), timeout=30
        )
        assert len(a) == 60
        assert len(b) == 40
        assert not set(keys(a)) & set(keys(b))
        await first.commit()
        await second.commit()
    stored = await rows(committed_db)
    assert sorted(k for k, r in stored.items() if r.claimed_by == "a") == sorted(keys(a))
    assert sorted(k for k, r in stored.items() if r.claimed_by == "b") == sorted(keys(b))
    assert await claim(committed_db, START, "c") == []
