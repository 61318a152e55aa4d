"""`python -m bot migrate` and `python -m bot audit verify` as real processes.

The verifier must pass an honest log, name the first altered row, and refuse a log that was
re-chained without AUDIT_KEY.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, update

from bot.core.audit import GENESIS, chain_hash
from bot.core.models import Account, BlocKind, Platform
from bot.fakes.clock import FakeClock
from bot.render import Renderer
from bot.services.actors import Actor, resolve_actor
from bot.services.app import Services
from bot.services.audit import verify_all
from bot.services.blocs import BlocDraft, create_bloc
from bot.services.outcomes import Rejected
from bot.services.units import UnitAdded, add_unit
from storage.db import create_engine
from storage.files import FileStore
from storage.tables import AuditHeadRow, AuditRow
from storage.uow import Database
from tests.conftest import ADMIN_PG_URL, PG_URL, START, _unavailable

ROOT = Path(__file__).resolve().parents[2]
AUDIT_KEY = "cli-audit-key-0123456789abcdefgh"
ATTACKER_KEY = b"attacker-guess-0123456789abcdefg"
ADMIN = Account(Platform.TELEGRAM, "1000")
assert len(AUDIT_KEY) == 32


@dataclass(frozen=True)
class Run:
    code: int
    out: str


async def run_bot(database_url: str, keys_dir: Path, *args: str) -> Run:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(keys_dir.parent),
        "PYTHONIOENCODING": "utf-8",
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "AUDIT_KEY": AUDIT_KEY,
        "LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode("utf-8"))


async def _create_pg_database() -> str:
    name = f"thidua_cli_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(ADMIN_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, ConnectionError) as exc:
        _unavailable("PostgreSQL", exc)
    except Exception as exc:
        if "connect" in str(exc).lower() or "refused" in str(exc).lower():
            _unavailable("PostgreSQL", exc)
        raise
    finally:
        await admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(url: str) -> None:
    admin = create_async_engine(ADMIN_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            name = make_url(url).database
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def cli_databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """Two empty databases for child processes: files, or dedicated PostgreSQL databases."""
    if request.param == "sqlite":
        yield (
            f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
            f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
        )
        return
    urls: list[str] = []
    try:
        for _ in range(2):
            urls.append(await _create_pg_database())
        yield (urls[0], urls[1])
    finally:
        for url in urls:
            await _drop_pg_database(url)


async def write_audit_rows(database_url: str) -> None:
    """Through the services: two blocs with audit rows 1-3 each (created, two units)."""
    db = Database(create_engine(database_url))
    services = Services(
        db=db,
        clock=FakeClock(START),
        renderer=Renderer(),
        audit_key=AUDIT_KEY.encode(),
        ballot_secret=b"cli-ballot-secret-0123456789abcdef",
        files=FileStore(Path(tempfile.gettempdir()) / "thidua-audit-cli-files"),
        admins=frozenset({ADMIN}),
    )

    async def admin() -> Actor:
        return await resolve_actor(
            services,
            platform=ADMIN.platform,
            external_id=ADMIN.external_id,
            display_name="Quản trị",
            username="admin",
        )

    try:
        for draft in (
            BlocDraft("Khối Văn hóa - Xã hội", BlocKind.KHOI, 2024, "VHXH", "Asia/Ho_Chi_Minh"),
            BlocDraft("Cụm thi đua số 1", BlocKind.CUM, 2024, "CUM1", "Asia/Ho_Chi_Minh"),
        ):
            assert not isinstance(await create_bloc(services, await admin(), draft), Rejected)
            actor = await admin()  # now a secretariat member, acting on the new bloc
            for name, short in (("Sở Y tế", "SYT"), ("Sở Tài chính", "STC")):
                added = await add_unit(services, actor, name=name, short_name=short)
                assert isinstance(added, UnitAdded)
    finally:
        await db.dispose()


async def execute(database_url: str, sql: str, params: dict[str, object] | None = None) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql), params or {})
    finally:
        await engine.dispose()


async def rechain_with(database_url: str, key: bytes, bloc_id: int) -> None:
    """What an attacker without AUDIT_KEY can do: recompute a bloc's whole chain and head
    with a key of their own."""
    db = Database(create_engine(database_url))
    try:
        async with db.uow() as uow:
            prev = GENESIS
            seq = 0
            for entry, _prev, _hash in await uow.audit.chain(bloc_id):
                row_hash = chain_hash(key, prev, entry)
                await uow.session.exec(
                    update(AuditRow)
                    .where(col(AuditRow.bloc_id) == bloc_id, col(AuditRow.seq) == entry.seq)
                    .values(prev_hash=prev, row_hash=row_hash)
                )
                prev, seq = row_hash, entry.seq
            await uow.session.exec(
                update(AuditHeadRow)
                .where(col(AuditHeadRow.bloc_id) == bloc_id)
                .values(seq=seq, head_hash=prev)
            )
            await uow.commit()
    finally:
        await db.dispose()


async def head_hashes(database_url: str) -> list[str]:
    db = Database(create_engine(database_url))
    try:
        async with db.uow() as uow:
            return [(await uow.audit.head(b))[1] for b in await uow.audit.bloc_ids()]
    finally:
        await db.dispose()


async def test_audit_verify_cli(cli_databases: tuple[str, str], tmp_path: Path) -> None:
    """Each child process costs seconds, so independent runs go two at a time."""
    honest_db, tampered_db = cli_databases
    keys = tmp_path / "keys"

    # A fresh database: `migrate` on one, `audit verify` (which migrates too) on the other.
    migrated, empty = await asyncio.gather(
        run_bot(honest_db, keys, "migrate"), run_bot(tampered_db, keys, "audit", "verify")
    )
    assert migrated.code == 0, migrated.out
    assert "migrations applied" in migrated.out
    assert empty.code == 0, empty.out
    assert "audit log empty: nothing to verify" in empty.out

    for url in cli_databases:
        await write_audit_rows(url)
    heads = await head_hashes(honest_db)
    assert len(heads) == 2
    assert await head_hashes(tampered_db) == heads  # same clock, same rows, same chain

    # By hand, with plain SQL: change the details of row 2 in every bloc ...
    forged = json.dumps({"name": "Sở Giả mạo", "short_name": "SGM"}, ensure_ascii=False)
    await execute(tampered_db, "UPDATE audit_log SET details = :d WHERE seq = 2", {"d": forged})
    # ... then re-chain bloc 2 and its head with a key that is not AUDIT_KEY.
    await rechain_with(tampered_db, ATTACKER_KEY, bloc_id=2)
    async with Database(create_engine(tampered_db)) as db:
        under_attacker_key = await verify_all(db, ATTACKER_KEY)
    assert under_attacker_key[1].broken is None  # a consistent forgery, under the wrong key

    honest, tampered = await asyncio.gather(
        run_bot(honest_db, keys, "audit", "verify"),
        run_bot(tampered_db, keys, "audit", "verify"),
    )
    assert honest.code == 0, honest.out
    assert f"bloc 1: 3 rows OK, head {heads[0]}" in honest.out
    assert f"bloc 2: 3 rows OK, head {heads[1]}" in honest.out
    assert "BROKEN" not in honest.out

    assert tampered.code == 1, tampered.out
    assert "bloc 1: BROKEN at row seq=2 (hash)" in tampered.out
    assert "bloc 2: BROKEN at row seq=1 (hash)" in tampered.out
    assert "rows OK" not in tampered.out
    # The key came from AUDIT_KEY: no key file was created.
    assert not keys.exists()
