"""AUDIT_KEY is checked at start like BALLOT_SECRET (a run with another key went unnoticed
and left a log no key verifies), and the head row carries a MAC of its position (deleting the
last rows and moving the head back verified "OK")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from sqlmodel import col

from bot.core.audit import key_check
from bot.services.app import Services
from bot.services.audit import (
    AuditKeyChangedError,
    ensure_audit_key,
    record,
    verify_all,
    verify_log,
)
from storage.secret_repos import AUDIT_KEY_CHECK, KeyCheck
from storage.tables import AuditHeadRow, AuditRow
from storage.uow import Database
from tests.conftest import AUDIT_KEY, START
from tests.storage.test_voting_concurrency import make_bloc

OTHER_KEY = b"another-audit-key-0123456789abcdef"


async def _key_check(db: Database) -> KeyCheck | None:
    async with db.uow() as uow:
        return await uow.secret.key_check(AUDIT_KEY_CHECK)


async def _log(services: Services, rows: int) -> int:
    """A bloc with `rows` audit rows; returns its id."""
    setup = await make_bloc(services, units=2, reps_per_unit=1, ballot=False)
    async with services.db.uow() as uow:
        for n in range(rows - await uow.audit.count(setup.bloc_id)):
            await record(
                uow, services, bloc_id=setup.bloc_id, actor_identity_id=None, action=f"x{n}"
            )
        await uow.commit()
    return setup.bloc_id


async def _sql(db: Database, *statements: object) -> None:
    async with db.uow() as uow:
        for statement in statements:
            await uow.session.exec(statement)  # type: ignore[call-overload]
        await uow.commit()


async def test_a_start_with_another_audit_key_is_refused(db: Database) -> None:
    assert await _key_check(db) is None
    await ensure_audit_key(db, AUDIT_KEY, START)
    stored = KeyCheck(key_check(AUDIT_KEY), START)
    assert await _key_check(db) == stored
    assert AUDIT_KEY.decode() not in stored.value
    await ensure_audit_key(db, AUDIT_KEY, START + timedelta(days=1))
    assert await _key_check(db) == stored

    with pytest.raises(AuditKeyChangedError) as caught:
        await ensure_audit_key(db, OTHER_KEY, START + timedelta(days=2))
    assert str(caught.value) == (
        "AUDIT_KEY does not match the key-check value stored in this database (first used "
        "2024-11-25 01:00 UTC): rows chained with another key would never verify beside the "
        "old ones. Restore the original AUDIT_KEY (or, on SQLite, the key file under "
        "KEYS_DIR)."
    )
    assert await _key_check(db) == stored


async def test_a_log_from_before_the_check_must_verify_under_the_key(
    services: Services,
) -> None:
    """A database that has audit rows but no check value yet (written before it existed):
    another key is refused by its newest row; the right one is remembered."""
    bloc = await _log(services, 4)
    with pytest.raises(AuditKeyChangedError) as caught:
        await ensure_audit_key(services.db, OTHER_KEY, START)
    assert str(caught.value).startswith(
        f"AUDIT_KEY does not verify the newest audit row of bloc {bloc} (seq=4; "
    )
    assert await _key_check(services.db) is None
    await ensure_audit_key(services.db, AUDIT_KEY, START)
    assert await _key_check(services.db) == KeyCheck(key_check(AUDIT_KEY), START)
    (report,) = await verify_all(services.db, AUDIT_KEY)
    assert (report.rows, report.broken) == (4, None)


async def test_cutting_the_tail_and_moving_the_head_back_is_caught(services: Services) -> None:
    await ensure_audit_key(services.db, AUDIT_KEY, START)  # the bot has started before
    bloc = await _log(services, 5)
    async with services.db.uow() as uow:
        rows = await uow.audit.chain(bloc)
    third = rows[2][2]
    # Rows 4 and 5 deleted, the head moved back to row 3 (without the key: its MAC stays).
    await _sql(
        services.db,
        delete(AuditRow).where(col(AuditRow.bloc_id) == bloc, col(AuditRow.seq) > 3),
        update(AuditHeadRow)
        .where(col(AuditHeadRow.bloc_id) == bloc)
        .values(seq=3, head_hash=third),
    )
    (report,) = await verify_all(services.db, AUDIT_KEY)
    assert (report.rows, report.head_seq) == (3, 3)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (3, "head mac")

    # The MAC removed as well: still caught, and a start does not seal it (heads have MACs).
    await _sql(
        services.db,
        update(AuditHeadRow).where(col(AuditHeadRow.bloc_id) == bloc).values(mac=None),
    )
    await ensure_audit_key(services.db, AUDIT_KEY, START)
    (report,) = await verify_all(services.db, AUDIT_KEY)
    assert report.broken is not None
    assert report.broken.reason == "head mac"

    # A head known from outside: found while its row is there, missing once cut.
    result = await verify_log(services.db, AUDIT_KEY, [third[:16], rows[4][2]])
    assert [(h.bloc_id, h.seq) for h in result.heads] == [(bloc, 3), (None, None)]
    assert not result.ok


async def test_heads_from_before_head_macs_are_sealed_at_the_first_start(
    services: Services,
) -> None:
    bloc = await _log(services, 3)
    # As migration 0010 leaves them: no MAC, no audit key check yet.
    await _sql(services.db, update(AuditHeadRow).values(mac=None))
    (report,) = await verify_all(services.db, AUDIT_KEY)
    assert report.broken is not None
    assert report.broken.reason == "head mac"
    await ensure_audit_key(services.db, AUDIT_KEY, START)
    (report,) = await verify_all(services.db, AUDIT_KEY)
    assert (report.bloc_id, report.rows, report.broken) == (bloc, 3, None)
    result = await verify_log(services.db, AUDIT_KEY, [report.head])
    assert result.ok
    assert [(h.bloc_id, h.seq) for h in result.heads] == [(bloc, 3)]
