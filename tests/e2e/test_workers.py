"""`python -m bot run --workers 2`: the production profile as real processes — two webhook
workers on one port, PostgreSQL and Redis shared, migrations once, /healthz, an update
delivered twice handled once, log lines carrying the worker and the update, a killed
worker started again, SIGTERM stopping all."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.fakes.telegram import FakeTelegram, FakeUser
from tests.e2e.test_run import ROOT, SECRETARY, TOKEN, _free_port, _join_flow, fake
from tests.hostile.bodies import MALFORMED_UPDATES

__all__ = ["fake"]

SECRET = "workers-webhook-secret-0123"
PERSON = FakeUser(2999, "Đinh Văn", "Hai")


def _env(
    fake: FakeTelegram, tmp: Path, database_url: str, redis_url: str, port: int
) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "WEBHOOK", "BOT_"))
    }
    env.update(
        TELEGRAM__TOKEN=TOKEN,
        TELEGRAM__API_URL=fake.url,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        WEBHOOK__URL=f"http://127.0.0.1:{port}/tg/webhook",
        WEBHOOK__SECRET=SECRET,
        WEBHOOK__LISTEN=f"127.0.0.1:{port}",
        BALLOT_SECRET="workers-ballot-secret-0123456789",
        AUDIT_KEY="workers-audit-key-0123456789",
        FILES_DIR=str(tmp / "files"),
        ADMIN_IDS=f"telegram:{SECRETARY.id}",
        LOG_LEVEL="INFO",
    )
    return env


async def _start(
    fake: FakeTelegram, tmp: Path, database_url: str, redis_url: str, port: int, **extra: str
) -> tuple[asyncio.subprocess.Process, Path]:
    """`run --workers 2` on `port`; `extra`: settings beside the test's (WEB__URL, …)."""
    env = _env(fake, tmp, database_url, redis_url, port) | extra
    log = tmp / "bot.log"
    with log.open("wb") as out:  # a file, not a pipe nobody reads while it runs
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--workers", "2",
            cwd=ROOT, env=env, stdout=out, stderr=out,
        )  # fmt: skip
    return proc, log


async def _health(port: int, *, want_pids: int, tries: int = 200) -> dict[int, dict[str, object]]:
    """/healthz until `want_pids` different workers have answered (each request a new
    connection: the kernel spreads them over the workers sharing the port)."""
    seen: dict[int, dict[str, object]] = {}
    for _ in range(tries):
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/healthz") as reply,
            ):
                body = await reply.json()
                seen[int(body["pid"])] = {"status": reply.status, **body}
        except (aiohttp.ClientError, OSError):
            pass
        if len(seen) >= want_pids:
            break
        await asyncio.sleep(0.05)
    return seen


async def test_two_workers_one_webhook(
    fake: FakeTelegram, tmp_path: Path, pg_database: str, redis_url: str
) -> None:
    port = _free_port()
    proc, log = await _start(fake, tmp_path, pg_database, redis_url, port)
    try:
        assert await fake.wait_webhook_set(timeout=60) == f"http://127.0.0.1:{port}/tg/webhook"
        healthy = await _health(port, want_pids=2)
        assert len(healthy) == 2, healthy
        for body in healthy.values():
            assert body["status"] == 200
            assert (body["ok"], body["database"], body["redis"]) == (True, "ok", "ok")
        assert sorted(int(str(b["worker"])) for b in healthy.values()) == [0, 1]

        await _join_flow(fake)  # the whole join, whichever worker takes each update

        # Telegram retries an update: the same update id twice is handled once.
        update = {
            "update_id": 777_777,
            "message": {
                "message_id": 77,
                "date": 0,
                "chat": {"id": PERSON.id, "type": "private"},
                "from": {"id": PERSON.id, "is_bot": False, "first_name": "Hai"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with aiohttp.ClientSession() as http:
            for _ in range(3):
                async with http.post(
                    f"http://127.0.0.1:{port}/tg/webhook", json=update, headers=headers
                ) as reply:
                    assert reply.status == 200
            # Hostile posts (on whichever worker holds the connection): a wrong or missing
            # secret 401, a body that is not an update 400 — nothing handled, no traceback.
            hook = f"http://127.0.0.1:{port}/tg/webhook"
            other = json.dumps({**update, "update_id": 777_778}).encode()  # never answered
            for secret, posted, status in [
                ("wrong-secret", other, 401),
                (None, other, 401),
                *((SECRET, bad, 400) for bad in MALFORMED_UPDATES[:3]),
                (SECRET, MALFORMED_UPDATES[-1], 400),  # nested deeper than the parser goes
            ]:
                given = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
                async with http.post(hook, data=posted, headers=given) as reply:
                    assert reply.status == status, posted[:40]
        await fake.wait_for_messages(PERSON.id, 1, timeout=20)
        await asyncio.sleep(1.0)  # a second answer would have arrived by now
        assert len(fake.messages_to(PERSON.id)) == 1

        # A worker killed outright is started again by the supervisor.
        victim = next(pid for pid, b in healthy.items() if b["worker"] == 1)
        os.kill(victim, signal.SIGKILL)
        again: dict[int, dict[str, object]] = {}
        for _ in range(100):
            again = await _health(port, want_pids=2, tries=20)
            if len(again) == 2 and victim not in again:
                break
            await asyncio.sleep(0.2)
        assert victim not in again
        assert len(again) == 2
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
    text = log.read_text(encoding="utf-8")
    assert proc.returncode == 0, text[-3000:]
    assert "migrations applied" in text  # once, by the supervisor
    assert text.count("migrations applied") == 1
    assert "[w0" in text
    assert "[w1" in text
    assert "u=777777]" in text
    assert "update delivered again: ignored" in text
    assert "exited with -9: starting it again" in text
    assert TOKEN.split(":")[1] not in text
    assert SECRET not in text
    assert json.dumps(SECRET) not in text
    assert "Traceback" not in text
    assert "Error handling request" not in text
    assert text.count("webhook: not a Telegram update") == 4


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "WEBHOOK__URL (workers share one webhook)"),
        ({"WEBHOOK__URL": "https://bot.example.vn/tg", "WEBHOOK__SECRET": "s" * 20},
         "REDIS_URL (conversation state and handled updates are shared)"),
    ],
)  # fmt: skip
async def test_workers_need_what_they_share(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM", "WEBHOOK", "BOT_", "REDIS", "DATABASE"))
    }
    clean.update(
        TELEGRAM__TOKEN=TOKEN, KEYS_DIR=str(tmp_path / "keys"), **env,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    )  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--workers", "2",
        cwd=ROOT, env=clean, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert message in err.decode()
    assert "a PostgreSQL DATABASE_URL (SQLite has one writer)" in err.decode()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_one_supervisor_per_deployment_and_workers_die_with_it(
    fake: FakeTelegram, tmp_path: Path, pg_database: str, redis_url: str
) -> None:
    port = _free_port()
    proc, log = await _start(fake, tmp_path, pg_database, redis_url, port)
    workers: dict[int, dict[str, object]] = {}
    try:
        assert await fake.wait_webhook_set(timeout=180) == f"http://127.0.0.1:{port}/tg/webhook"
        workers = await _health(port, want_pids=2)
        assert len(workers) == 2, workers

        # A second supervisor for the same address says who holds it and stops (before: it
        # started without a word and took part of the connections).
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--workers", "2",
            cwd=ROOT, env=_env(fake, tmp_path, pg_database, redis_url, port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            _, err = await asyncio.wait_for(second.communicate(), 60)
        finally:
            if second.returncode is None:
                second.kill()
                await second.wait()
        assert second.returncode == 2
        assert err.decode().strip().startswith(
            f"thidua-bot: another supervisor (pid {proc.pid}) already serves 127.0.0.1:{port} ("
        )

        # The supervisor killed outright: its workers stop too (before: they kept serving).
        proc.kill()
        await proc.wait()
        for _ in range(300):
            if not any(_alive(pid) for pid in workers):
                break
            await asyncio.sleep(0.1)
        assert [pid for pid in workers if _alive(pid)] == []
        assert await _health(port, want_pids=1, tries=1) == {}
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        for pid in workers:  # no orphan left behind by a failing run
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    text = log.read_text(encoding="utf-8")
    assert text.count("supervisor (pid") <= 2  # each worker at most one line as it goes
    assert "Traceback" not in text
