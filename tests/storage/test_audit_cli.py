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
from sqlmodel import col, delete, update

from bot.core.audit import GENESIS, chain_hash, head_mac
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
from storage.migrate import migrate
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
                .values(seq=seq, head_hash=prev, mac=head_mac(key, bloc_id, seq, prev))
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


async def cut_tail(database_url: str, bloc_id: int, *, keep: int, key: bytes | None) -> None:
    """Delete the bloc's rows after `keep` and move its head back to row `keep`: with the
    key (or an old copy of the head row) its MAC is valid; without, the old MAC stays."""
    db = Database(create_engine(database_url))
    try:
        async with db.uow() as uow:
            rows = await uow.audit.chain(bloc_id)
            kept = rows[keep - 1][2]
            await uow.session.exec(
                delete(AuditRow).where(col(AuditRow.bloc_id) == bloc_id, col(AuditRow.seq) > keep)
            )
            values: dict[str, object] = {"seq": keep, "head_hash": kept}
            if key is not None:
                values["mac"] = head_mac(key, bloc_id, keep, kept)
            await uow.session.exec(
                update(AuditHeadRow).where(col(AuditHeadRow.bloc_id) == bloc_id).values(**values)
            )
            await uow.commit()
    finally:
        await db.dispose()


async def test_audit_verify_catches_a_cut_tail(
    cli_databases: tuple[str, str], tmp_path: Path
) -> None:
    """Deleting the last rows and moving the head back verified "OK". Without the key the
    head's MAC gives it away; with it (or an old copy of the head row), a head printed on a
    document and missing from the chain does."""
    with_key, without_key = cli_databases
    keys = tmp_path / "keys"
    for url in cli_databases:
        engine = create_engine(url)
        await migrate(engine)
        await engine.dispose()
        await write_audit_rows(url)
    heads = await head_hashes(with_key)
    await cut_tail(without_key, 2, keep=2, key=None)
    await cut_tail(with_key, 1, keep=2, key=AUDIT_KEY.encode())
    # As printed on the documents: a record's line, a minutes caption's first 16 digits.
    heads_file = tmp_path / "heads.txt"
    heads_file.write_text(
        "# heads copied from the documents\n\n"
        f"Mã kiểm chứng nhật ký: {heads[1]}\n"
        f"Audit log head: <code>{heads[0][:16]}</code>…\n",
        encoding="utf-8",
    )
    bad_file = tmp_path / "bad.txt"
    bad_file.write_text(f"{heads[1]}\nbiên bản số 01/BB\n", encoding="utf-8")

    unkeyed, keyed = await asyncio.gather(
        run_bot(without_key, keys, "audit", "verify"),
        run_bot(with_key, keys, "audit", "verify"),
    )
    assert unkeyed.code == 1, unkeyed.out
    assert unkeyed.out.splitlines() == [
        f"bloc 1: 3 rows OK, head {heads[0]}",
        "bloc 2: BROKEN: the head (row seq=2) does not carry a valid MAC under AUDIT_KEY: the "
        "head was moved back or rewritten (a head written before head MACs existed gets one "
        "at the bot's first start after the upgrade)",
    ]
    # Consistent under the key: only a head from outside shows the cut.
    assert keyed.code == 0, keyed.out
    assert "bloc 1: 2 rows OK" in keyed.out

    from_file, malformed = await asyncio.gather(
        run_bot(with_key, keys, "audit", "verify", "--heads", str(heads_file)),
        run_bot(with_key, keys, "audit", "verify", "--heads", str(bad_file)),
    )
    assert from_file.code == 1, from_file.out
    assert from_file.out.splitlines()[2:] == [
        f"head {heads[1]} found: bloc 2, row seq=3",
        f"head {heads[0][:16]} MISSING: no row of the audit log has it; the log was cut "
        "after it or replaced",
    ]
    assert malformed.code == 2, malformed.out
    assert malformed.out.strip() == (
        f"{bad_file}: line(s) 2 hold no audit head (16 to 64 hexadecimal digits); blank lines "
        "and lines starting with # are skipped"
    )
    found = await run_bot(with_key, keys, "audit", "verify", "--head", heads[1])
    assert found.code == 0, found.out
    assert found.out.splitlines()[-1] == f"head {heads[1]} found: bloc 2, row seq=3"
