"""Concurrent appends to one bloc's audit chain, committed for real on a fresh database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.core.models import BlocKind
from bot.services.audit import verify_all
from storage.tables import AuditHeadRow
from storage.uow import Database
from tests.conftest import START

KEY = b"concurrency-audit-key-0123456789"
WRITERS = 20  # fits the committed_db pool (see tests/conftest.py)


async def test_concurrent_first_appends_leave_a_gapless_chain(committed_db: Database) -> None:
    db = committed_db
    async with db.uow() as uow:
        bloc = await uow.blocs.create(
            name="Khối VHXH",
            kind=BlocKind.KHOI,
            year=2024,
            code="VHXH",
            timezone="Asia/Ho_Chi_Minh",
            now=START,
        )
        await uow.commit()
    is_pg = db.engine.dialect.name == "postgresql"
    # On PostgreSQL every writer first holds an open transaction of its own, then all append
    # at once to a bloc that has no audit head yet. (SQLite takes its write lock at BEGIN,
    # so there the writers can only queue; holding them at a barrier would deadlock.)
    barrier = asyncio.Barrier(WRITERS)

    held: list[AuditHeadRow | None] = []

    async def writer(n: int) -> str:
        async with db.uow() as uow:
            if is_pg:
                # Open the transaction and load the head (if any) into this session first;
                # holding it keeps the (soon stale) copy in the session's identity map.
                held.append(await uow.session.get(AuditHeadRow, bloc.id))
                await barrier.wait()
            row_hash = await uow.audit.append(
                KEY,
                bloc_id=bloc.id,
                at=START + timedelta(seconds=n),
                actor_identity_id=None,
                unit_id=None,
                action="test.append",
                details={"writer": n},
            )
            await uow.commit()
            return row_hash

    # Round 1: no audit head yet, so every writer races to create it.
    # Round 2: the head exists and each writer holds a stale copy of it when it appends.
    hashes: list[str] = []
    for round_start in (0, WRITERS):
        batch = (writer(n) for n in range(round_start, round_start + WRITERS))
        hashes += await asyncio.wait_for(asyncio.gather(*batch), 60)

    total = 2 * WRITERS
    async with db.uow() as uow:
        chain = await uow.audit.chain(bloc.id)
        head = await uow.audit.head(bloc.id)
    assert [entry.seq for entry, _, _ in chain] == list(range(1, total + 1))
    assert sorted(entry.details["writer"] for entry, _, _ in chain) == list(range(total))
    assert {row_hash for _, _, row_hash in chain} == set(hashes)
    assert head == (total, chain[-1][2])
    (report,) = await verify_all(db, KEY)
    assert (report.rows, report.head, report.broken) == (total, chain[-1][2], None)
