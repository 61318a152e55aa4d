"""`python -m bot run` and BALLOT_SECRET, as real processes (decision 4): on PostgreSQL a
missing secret refuses start; on SQLite the bot makes a private key file outside the data
directory; a secret other than the one the database first saw refuses start with one line."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.sealing import master_check
from bot.fakes.telegram import FakeTelegram
from bot.services.audit import ensure_audit_key
from bot.services.secret_ballots import BallotSecretChangedError, ensure_ballot_secret
from storage.db import create_engine
from storage.migrate import migrate
from storage.secret_repos import BALLOT_SECRET_CHECK, KeyCheck
from storage.uow import Database
from tests.conftest import START

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "5000000003:AAHsEcReTsTaRtSeCrEtStArTsEcReTsTaRt"
AUDIT_KEY = "start-audit-key-0123456789abcdef"
SECRET_A = "ballot-secret-A-0123456789abcdef"
SECRET_B = "ballot-secret-B-0123456789abcdef"
UNREACHABLE_API = "http://127.0.0.1:9"  # never called: the start is refused before


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def _env(tmp: Path, database_url: str, api_url: str, **extra: str) -> dict[str, str]:
    """Only what the bot needs; it runs in `tmp`, so no .env file of the checkout is read."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "PYTHONPATH": str(ROOT),
        "PYTHONIOENCODING": "utf-8",
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(tmp / "keys"),
        "FILES_DIR": str(tmp / "data" / "files"),
        "AUDIT_KEY": AUDIT_KEY,
        "TELEGRAM__TOKEN": TOKEN,
        "TELEGRAM__API_URL": api_url,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def _spawn(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _refused(env: dict[str, str], cwd: Path) -> Run:
    """A start that must end by itself."""
    proc = await _spawn(env, cwd)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


async def _started_then_stopped(fake: FakeTelegram, env: dict[str, str], cwd: Path) -> Run:
    """A start that must reach Telegram and poll it (its stop signals handled by then), then
    a clean stop."""
    fake.reset()
    proc = await _spawn(env, cwd)

    def polling() -> bool:
        return any(r.method == "getUpdates" for r in fake.requests)

    for _ in range(600):
        if proc.returncode is not None or polling():
            break
        await asyncio.sleep(0.05)
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
    assert proc.returncode is not None
    assert polling(), err.decode()
    assert any(r.method == "setMyCommands" for r in fake.requests)
    return Run(proc.returncode, out.decode(), err.decode())


async def _key_check(database_url: str) -> KeyCheck | None:
    db = Database(create_engine(database_url))
    try:
        async with db.uow() as uow:
            return await uow.secret.key_check(BALLOT_SECRET_CHECK)
    finally:
        await db.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, bot_username="thidua_secret_bot") as server:
        yield server


async def _tables(database_url: str) -> list[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = 'public'"
                )
            )
            return sorted(str(r[0]) for r in rows)
    finally:
        await engine.dispose()


async def test_postgresql_without_ballot_secret_refuses_to_start(
    pg_database: str, tmp_path: Path
) -> None:
    run = await _refused(_env(tmp_path, pg_database, UNREACHABLE_API), tmp_path)
    assert run.code == 2
    assert run.err.strip() == (
        "thidua-bot: BALLOT_SECRET is required with PostgreSQL: set it in the environment"
    )
    assert run.out == ""
    # Refused before anything was written: no key file, the database not even migrated.
    assert not (tmp_path / "keys").exists()
    assert await _tables(pg_database) == []


async def test_postgresql_refuses_a_secret_other_than_the_first_one(
    pg_database: str, tmp_path: Path
) -> None:
    db = Database(create_engine(pg_database))
    try:
        await migrate(db.engine)
        await ensure_ballot_secret(db, SECRET_A.encode(), START)
    finally:
        await db.dispose()
    env = _env(tmp_path, pg_database, UNREACHABLE_API, BALLOT_SECRET=SECRET_B)
    run = await _refused(env, tmp_path)
    assert run.code == 2
    assert run.err.strip() == f"thidua-bot: {BallotSecretChangedError(START)}"
    assert "\n" not in run.err.strip()
    assert "BALLOT_SECRET does not match" in run.err
    assert SECRET_A not in run.err
    assert SECRET_B not in run.err
    assert await _key_check(pg_database) == KeyCheck(master_check(SECRET_A.encode()), START)


async def test_sqlite_keeps_a_private_key_file_and_refuses_another_secret_later(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{data / 'thidua.db'}"

    # First start, no BALLOT_SECRET: a key file is made under KEYS_DIR, readable by the
    # bot's user alone, outside the data directory; the database keeps only its check.
    first = await _started_then_stopped(fake, _env(tmp_path, url, fake.url), tmp_path)
    assert first.code == 0, first.err
    key_file = tmp_path / "keys" / "ballot_secret.key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) & 0o077 == 0
    assert not key_file.resolve().is_relative_to(data.resolve())
    secret = key_file.read_text().strip()
    assert len(secret) >= 32
    stored = await _key_check(url)
    assert stored is not None
    assert stored.value == master_check(secret.encode())
    assert secret not in (data / "thidua.db").read_bytes().decode("latin-1")

    # Started again with another secret in the environment: one line, exit 2.
    env = _env(tmp_path, url, fake.url, BALLOT_SECRET=SECRET_B)
    fake.reset()
    changed = await _refused(env, tmp_path)
    assert changed.code == 2
    assert changed.err.strip() == f"thidua-bot: {BallotSecretChangedError(stored.created_at)}"
    assert "\n" not in changed.err.strip()
    assert SECRET_B not in changed.err
    assert secret not in changed.err
    assert fake.requests == []  # refused before Telegram was called
    assert await _key_check(url) == stored

    # Without it, the key file is used again and the bot starts.
    again = await _started_then_stopped(fake, _env(tmp_path, url, fake.url), tmp_path)
    assert again.code == 0, again.err
    assert key_file.read_text().strip() == secret


async def test_sqlite_refuses_an_empty_key_file_or_one_open_to_others(tmp_path: Path) -> None:
    """A start killed between creating the key file and writing it left it empty; the next
    start used the empty secret. Now: one line, exit 2, nothing migrated."""
    data = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{data / 'thidua.db'}"
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    keys.chmod(0o700)
    key_file = keys / "ballot_secret.key"
    key_file.touch(mode=0o600)

    empty = await _refused(_env(tmp_path, url, UNREACHABLE_API), tmp_path)
    assert empty.code == 2
    assert empty.err.strip() == (
        f"thidua-bot: key file {key_file} is empty or shorter than 16 characters: restore it "
        "from a backup, or delete it to have a new one made (only if nothing was ever sealed "
        "or audited with it)"
    )
    assert empty.out == ""
    assert not (data / "thidua.db").exists()

    key_file.write_text(SECRET_A)
    key_file.chmod(0o644)
    shared = await _refused(_env(tmp_path, url, UNREACHABLE_API), tmp_path)
    assert shared.code == 2
    assert shared.err.strip() == (
        f"thidua-bot: key file {key_file} is open to other users (mode 644): "
        f"run chmod 600 {key_file}"
    )
    key_file.chmod(0o600)
    keys.chmod(0o750)
    shared = await _refused(_env(tmp_path, url, UNREACHABLE_API), tmp_path)
    assert shared.code == 2
    assert shared.err.strip() == (
        f"thidua-bot: KEYS_DIR {keys} is open to other users (mode 750): run chmod 700 {keys}"
    )
    assert not (data / "thidua.db").exists()


async def test_a_start_with_another_audit_key_is_refused_in_one_line(
    pg_database: str, tmp_path: Path
) -> None:
    """A run with another AUDIT_KEY went unnoticed and left a log that verified under
    neither key. Now the database keeps AUDIT_KEY's check value, as for BALLOT_SECRET."""
    db = Database(create_engine(pg_database))
    try:
        await migrate(db.engine)
        await ensure_ballot_secret(db, SECRET_A.encode(), START)
        await ensure_audit_key(db, AUDIT_KEY.encode(), START)
    finally:
        await db.dispose()
    other = "another-audit-key-0123456789abcd"
    env = _env(tmp_path, pg_database, UNREACHABLE_API, BALLOT_SECRET=SECRET_A, AUDIT_KEY=other)
    run = await _refused(env, tmp_path)
    assert run.code == 2
    assert run.err.strip() == (
        "thidua-bot: AUDIT_KEY does not match the key-check value stored in this database "
        "(first used 2024-11-25 01:00 UTC): rows chained with another key would never verify "
        "beside the old ones. Restore the original AUDIT_KEY (or, on SQLite, the key file "
        "under KEYS_DIR)."
    )
    assert "\n" not in run.err.strip()
    assert other not in run.err
    assert AUDIT_KEY not in run.err


async def _supervised(env: dict[str, str], cwd: Path) -> Run:
    """`run --workers 2`, which must end by itself."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--workers", "2",
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


def _workers_env(tmp: Path, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return _env(
        tmp,
        database_url,
        UNREACHABLE_API,
        REDIS_URL=redis_url,
        WEBHOOK__URL="https://bot.example.vn/tg/webhook",
        WEBHOOK__SECRET="supervisor-secret-0123",
        WEBHOOK__LISTEN="127.0.0.1:9",  # never bound: refused before any worker starts
        **extra,
    )


async def test_supervisor_refuses_a_bad_configuration_once_before_any_worker(
    pg_database: str, redis_url: str, tmp_path: Path
) -> None:
    # No AUDIT_KEY: one line from the supervisor (before: each worker found it and
    # crash-looped for about 36 s, then exit 1).
    env = _workers_env(tmp_path, pg_database, redis_url, BALLOT_SECRET=SECRET_A)
    del env["AUDIT_KEY"]
    run = await _supervised(env, tmp_path)
    assert (run.code, run.err.strip()) == (
        2,
        "thidua-bot: AUDIT_KEY is required with PostgreSQL: set it in the environment",
    )
    # A changed BALLOT_SECRET: the same, checked against the database by the supervisor.
    db = Database(create_engine(pg_database))
    try:
        await migrate(db.engine)
        await ensure_ballot_secret(db, SECRET_A.encode(), START)
    finally:
        await db.dispose()
    run = await _supervised(
        _workers_env(tmp_path, pg_database, redis_url, BALLOT_SECRET=SECRET_B), tmp_path
    )
    assert (run.code, run.err.strip()) == (2, f"thidua-bot: {BallotSecretChangedError(START)}")


@pytest.mark.parametrize("workers", [False, True])
async def test_an_unreachable_database_is_one_line(
    redis_url: str, tmp_path: Path, workers: bool
) -> None:
    url = "postgresql://thidua:s3cret%40pg@127.0.0.1:9/thidua"  # nothing listens on port 9
    if workers:
        run = await _supervised(
            _workers_env(tmp_path, url, redis_url, BALLOT_SECRET=SECRET_A), tmp_path
        )
    else:
        env = _env(tmp_path, url, UNREACHABLE_API, BALLOT_SECRET=SECRET_A)
        run = await _refused(env, tmp_path)
    assert run.code == 2
    assert "\n" not in run.err.strip(), run.err  # before: a traceback of about 170 lines
    assert run.err.startswith(
        "thidua-bot: cannot reach the database postgresql://thidua:***@127.0.0.1:9/thidua: "
    )
    assert "s3cret" not in run.err
