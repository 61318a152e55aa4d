"""docs/backup-restore.md, done as written: a bloc with a submitted report and a secret ballot
cast with its receipt is backed up by the guide's own systemd lines (the database with
`pg_dump`, the files folder with rsync, the env file holding the keys), restored by its lines
on a "new server" (a fresh database, fresh folders), checked by its `audit verify` line, and
the bot is started on the restored copy: it comes up healthy, the receipt is found in the box
through the chat, the ballot is counted with the restored secret, and the stored report file
is served by the console with its SHA-256 intact."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.fakes.clock import FakeClock
from bot.fakes.telegram import FakeTelegram, FakeUser
from bot.render import Renderer
from bot.services.app import Services
from bot.services.audit import ensure_audit_key
from bot.services.secret_ballots import ensure_ballot_secret
from storage.db import create_engine
from storage.files import FileStore
from storage.migrate import migrate
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
from tests.e2e.test_faults import _answer
from tests.e2e.test_reverse_proxy import _link, _sign_in
from tests.e2e.test_run import _free_port, fake
from tests.e2e.test_workers import _health, _start
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

__all__ = ["fake"]

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "backup-restore.md"
WORKER_DB = make_url(PG_URL).database or "test"
SOURCE_DB = f"{WORKER_DB}_backup_src"
RESTORED_DB = f"{WORKER_DB}_backup_restored"


def libpq_url(database: str) -> str:
    """A database URL as pg_dump and pg_restore spell it (no `+asyncpg`)."""
    url = make_url(PG_URL).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def tools_or_skip() -> None:
    missing = [tool for tool in ("pg_dump", "pg_restore", "rsync") if shutil.which(tool) is None]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed (apt-get install postgresql-client rsync)"
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


# --- the guide's systemd lines, run on two "servers" under the test's folder ----------------

SERVER_PATHS = (
    "/var/lib/thidua-bot",
    "/etc/thidua-bot",
    "/var/backups/thidua-bot",
    "/somewhere/else",
)


def section(heading: str, subheading: str) -> str:
    """The text of `### subheading` under `## heading` of the guide."""
    guide = GUIDE.read_text(encoding="utf-8")
    part = guide.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return part.split(f"\n### {subheading}\n", 1)[1].split("\n### ", 1)[0]


def blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S)


def on_server(script: str, server: Path) -> str:
    """The guide's lines with the server's paths under `server` and the checkout's `.venv`
    the running Python; run by the test's user, so without `sudo -u thidua`."""
    for path in SERVER_PATHS:
        script = script.replace(path, f"{server}{path}")
    script = script.replace("/opt/thidua-bot", str(ROOT)).replace(
        ".venv/bin/python", sys.executable
    )
    return script.replace("sudo -u thidua ", "")


def operator_lines(block: str) -> str:
    """A block's lines less what the test does itself: stopping the service and creating the
    empty database (the `databases` fixture did, as `createdb` would), and the URLs (the
    test's databases, given in the environment)."""
    kept = [
        line
        for line in block.splitlines()
        if not line.startswith(
            ("sudo systemctl", "sudo -u postgres createdb", "DB_URL=", "RESTORE_URL=")
        )
    ]
    return "\n".join(["set -euo pipefail", *kept]) + "\n"


def run_script(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def env_file(path: Path) -> dict[str, str]:
    """The settings of an env file (KEY=value lines, comments on their own lines)."""
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())
    return {k: v for k, v in (p for p in pairs if len(p) == 2) if not k.startswith("#")}


@pytest.mark.slow
@pytest.mark.usefixtures("databases")
async def test_a_backup_restored_as_documented_starts_verifies_and_keeps_receipt_and_files(
    tmp_path: Path, fake: FakeTelegram, redis_url: str
) -> None:
    old, new = tmp_path / "old-server", tmp_path / "new-server"
    files = old / "var/lib/thidua-bot/files"
    world = await build_world(files)
    # The deployment's env file (deploy.md): the keys live there on PostgreSQL.
    (old / "etc/thidua-bot").mkdir(parents=True)
    live_env = old / "etc/thidua-bot/thidua.env"
    live_env.write_text(
        f"DATABASE_URL={libpq_url(SOURCE_DB)}\n"
        f"AUDIT_KEY={AUDIT_KEY.decode()}\nBALLOT_SECRET={BALLOT_SECRET.decode()}\n",
        encoding="utf-8",
    )
    live_env.chmod(0o640)

    # Backed up with the guide's block, as an operator would type it.
    (old / "somewhere/else").mkdir(parents=True)
    backup = blocks(section("Backing up", "PostgreSQL (systemd)"))[0]
    env = {**os.environ, "DB_URL": libpq_url(SOURCE_DB)}
    done = await asyncio.to_thread(run_script, operator_lines(on_server(backup, old)), env)
    assert done.returncode == 0, f"{backup}\n{done.stderr}"
    dumps = list((old / "var/backups/thidua-bot").glob("thidua-*.dump"))
    assert len(dumps) == 1, dumps
    assert dumps[0].stat().st_size > 0

    # The backups and the keys' copy taken to a new server, with only the folders made.
    for kept in ("var/backups/thidua-bot", "somewhere/else"):
        shutil.copytree(old / kept, new / kept)
    for folder in ("var/lib/thidua-bot", "etc/thidua-bot"):
        (new / folder).mkdir(parents=True)
    restore, verify = blocks(section("Restoring", "PostgreSQL (systemd)"))[:2]
    env = {
        **os.environ,
        "DUMP": str(new / "var/backups/thidua-bot" / dumps[0].name),
        "RESTORE_URL": libpq_url(RESTORED_DB),
    }
    done = await asyncio.to_thread(run_script, operator_lines(on_server(restore, new)), env)
    assert done.returncode == 0, f"{restore}\n{done.stderr}"
    restored_env = new / "etc/thidua-bot/thidua.env"
    assert restored_env.stat().st_mode & 0o777 == 0o640
    restored_files = new / "var/lib/thidua-bot/files"
    assert sorted(p.name for p in restored_files.rglob("*") if p.is_file()) == sorted(
        p.name for p in files.rglob("*") if p.is_file()
    )

    # The guide's check of the restored audit log, with the restored env file's keys.
    verified = await asyncio.to_thread(run_script, on_server(verify, new), env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert re.search(
        rf"^bloc {world.bloc_id}: \d+ rows OK, head [0-9a-f]+$", verified.stdout, re.M
    )
    other = await asyncio.to_thread(
        audit_verify, RESTORED_DB, b"another-audit-key-0123456789", tmp_path
    )
    assert other.returncode == 1
    assert "AUDIT_KEY is not the key this database's audit log was written with" in other.stdout

    # Started on the restored copy: the env file's keys (checked against the database at
    # start), DATABASE_URL set to the restored database as the guide says, the new files.
    port = _free_port()
    settings = env_file(restored_env) | {
        "DATABASE_URL": libpq_url(RESTORED_DB),
        "FILES_DIR": str(restored_files),
        "WEB__URL": f"http://127.0.0.1:{port}/web",
    }
    proc, log = await _start(fake, tmp_path, libpq_url(RESTORED_DB), redis_url, port, **settings)
    try:
        await fake.wait_webhook_set(timeout=60)
        healthy = await _health(port, want_pids=2)
        assert [(b["status"], b["ok"], b["database"]) for b in healthy.values()] == [
            (200, True, "ok")
        ] * 2, healthy

        # The receipt, checked in chat against the restored ballot box, then counted under
        # the restored BALLOT_SECRET.
        voter = FakeUser(AN.id, AN.first_name, AN.last_name or "")
        desk = FakeUser(SECRETARY.id, SECRETARY.first_name, SECRETARY.last_name or "")
        in_box = await _answer(fake, voter, f"/vote check {world.receipt}", world.receipt)
        assert in_box.startswith(
            f"📥 Phiếu có mã <code>{world.receipt}</code> đang nằm trong hòm phiếu của «{LEADER}»"
        ), in_box
        result = await _answer(fake, desk, "/ballot close 6", "Kết quả")
        assert result.startswith(f"📊 <b>Kết quả: {LEADER}</b>"), result
        counted = await _answer(fake, voter, f"/vote check {world.receipt}", world.receipt)
        assert counted.startswith(
            f"✅ Phiếu có mã <code>{world.receipt}</code> đã được kiểm trong «{LEADER}»."
        ), counted

        # The stored report file, served by the console from the restored files folder.
        signin = rf"http://127\.0\.0\.1:{port}/web/signin/[A-Za-z0-9_-]{{43}}"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            link = await _link(fake, desk, "/web", signin, wanted="http://")
            await _sign_in(http, link, secure=False)
            async with http.get(
                f"http://127.0.0.1:{port}/web/console/periods/1/units/1/file"
            ) as got:
                assert got.status == 200, await got.text()
                served = await got.read()
        assert hashlib.sha256(served).hexdigest() == world.report_sha256
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
    assert proc.returncode == 0, log.read_text(encoding="utf-8")[-3000:]
    assert "Traceback" not in log.read_text(encoding="utf-8")
