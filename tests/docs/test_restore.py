"""docs/backup-restore.md, done: a bloc with a submitted report and a secret ballot cast with
its receipt is dumped with the document's own `pg_dump` line, restored with its `pg_restore`
line into a fresh database, checked there by the real `python -m bot audit verify`, and the
receipt is still found in the restored ballot box."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select

from bot.fakes.clock import FakeClock
from bot.render import Renderer
from bot.services.app import Services
from bot.services.audit import ensure_audit_key
from bot.services.secret_ballots import ReceiptCheck, check_receipt, ensure_ballot_secret
from storage.db import create_engine
from storage.files import FileStore
from storage.migrate import migrate
from storage.tables import SubmissionRow
from storage.uow import Database
from tests.conftest import (
    ADMIN,
    ADMIN_PG_URL,
    AUDIT_KEY,
    BALLOT_SECRET,
    IN_CI,
    PG_URL,
    START,
    _unavailable,
)
from tests.handlers.conftest import SECRETARY, make_harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    LEADER,
    OPEN_PERIOD,
    TABLE_EXAMPLE,
    ballot_ids,
    bloc_by_code,
    cast,
    conference_setup,
    receipt_of,
    submitted,
)

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "backup-restore.md"
WORKER_DB = make_url(PG_URL).database or "test"
SOURCE_DB = f"{WORKER_DB}_backup_src"
RESTORED_DB = f"{WORKER_DB}_backup_restored"


def libpq_url(database: str) -> str:
    """A database URL as pg_dump and pg_restore spell it (no `+asyncpg`)."""
    url = make_url(PG_URL).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def documented(command: str, variable: str) -> str:
    """The one line of docs/backup-restore.md that runs `command` on `$variable`."""
    lines = [
        line
        for line in GUIDE.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{command} ") and f'"${variable}"' in line
    ]
    assert len(lines) == 1, f"docs/backup-restore.md: one `{command} … ${variable}` line: {lines}"
    return lines[0]


def tools_or_skip() -> None:
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed (apt-get install postgresql-client)"
    if IN_CI:
        pytest.fail(f"{message}: CI must run the restore test", pytrace=False)
    pytest.skip(message)


async def recreate(*names: str, drop_only: bool = False) -> None:
    admin = create_async_engine(ADMIN_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for name in names:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                if not drop_only:
                    await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


def services_on(database: str, files: Path) -> Services:
    engine = create_engine(libpq_url(database))
    return Services(
        db=Database(engine),
        clock=FakeClock(START),
        renderer=Renderer(),
        audit_key=AUDIT_KEY,
        ballot_secret=BALLOT_SECRET,
        files=FileStore(files),
        admins=frozenset({ADMIN}),
        bot_username="thidua_test_bot",
    )


@dataclass(frozen=True)
class World:
    bloc_id: int
    receipt: str
    report_sha256: str


@pytest.fixture
async def databases() -> AsyncIterator[None]:
    """The source and restored databases of this test worker, fresh, dropped afterwards."""
    tools_or_skip()
    try:
        await recreate(SOURCE_DB, RESTORED_DB)
    except (OSError, ConnectionError) as exc:
        _unavailable("PostgreSQL", exc)
    yield
    await recreate(SOURCE_DB, RESTORED_DB, drop_only=True)


async def build_world(files: Path) -> World:
    """What `run` does on a new database (migrate, store the key checks), then a year: the
    bloc, a submitted report, a secret ballot opened and cast (its receipt kept)."""
    services = services_on(SOURCE_DB, files)
    try:
        await migrate(services.db.engine)
        await ensure_ballot_secret(services.db, BALLOT_SECRET, services.clock.now())
        await ensure_audit_key(services.db, AUDIT_KEY, services.clock.now())
        tg = make_harness(services)
        await conference_setup(tg)
        await tg.send_file(
            SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria"
        )
        await tg.say(SECRETARY, OPEN_PERIOD)
        submission = await submitted(services, AN)
        assert submission.version == 1
        leader = (await ballot_ids(services))[5]
        opened = await tg.say(SECRETARY, "/ballot open 6")
        assert LEADER in opened[0].text, opened[0].text
        receipt = receipt_of((await cast(tg, AN, leader, 1))[0])
        bloc = await bloc_by_code(services, BLOC_CODE)
        return World(bloc.id, receipt, submission.file_sha256)
    finally:
        await services.db.dispose()


def shell(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def audit_verify(database: str, audit_key: bytes, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI against `database`, with the deployment's keys and nothing else."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": libpq_url(database),
        "AUDIT_KEY": audit_key.decode(),
        "BALLOT_SECRET": BALLOT_SECRET.decode(),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", "verify"],
        cwd=cwd,  # no .env of the checkout is read
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.usefixtures("databases")
async def test_a_dump_restored_as_documented_verifies_and_keeps_the_receipt(
    tmp_path: Path,
) -> None:
    world = await build_world(tmp_path / "files")

    # Dumped and restored with the document's own lines, in a shell as an operator would.
    dump = tmp_path / "thidua.dump"
    env = {
        **os.environ,
        "DB_URL": libpq_url(SOURCE_DB),
        "DUMP": str(dump),
        "RESTORE_URL": libpq_url(RESTORED_DB),
    }
    for line in (documented("pg_dump", "DB_URL"), documented("pg_restore", "RESTORE_URL")):
        done = await asyncio.to_thread(shell, line, env)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
    assert dump.stat().st_size > 0

    # The restored database's audit log verifies with the deployment's key, and only with it.
    verified = await asyncio.to_thread(audit_verify, RESTORED_DB, AUDIT_KEY, tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert re.search(
        rf"^bloc {world.bloc_id}: \d+ rows OK, head [0-9a-f]+$", verified.stdout, re.M
    )
    other = await asyncio.to_thread(
        audit_verify, RESTORED_DB, b"another-audit-key-0123456789", tmp_path
    )
    assert other.returncode == 1
    assert "AUDIT_KEY is not the key this database's audit log was written with" in other.stdout

    # The receipt is in the restored ballot box, found through the service under the secret.
    services = services_on(RESTORED_DB, tmp_path / "files")
    try:
        async with services.db.uow() as uow:
            found = await check_receipt(uow, services, world.bloc_id, world.receipt)
            rows = await uow.session.exec(select(SubmissionRow.version, SubmissionRow.file_sha256))
            submissions = [tuple(row) for row in rows.all()]
    finally:
        await services.db.dispose()
    assert isinstance(found, ReceiptCheck), found
    assert found.receipt == world.receipt
    assert found.found is not None, "the receipt is not in the restored ballot box"
    assert not found.found.counted
    assert submissions == [(1, world.report_sha256)]
