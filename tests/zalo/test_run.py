"""`python -m bot run` with only a Zalo token: a real process long-polls the fake Zalo Bot
API, answers a user in plain text, stops cleanly on SIGTERM, and logs no token."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from bot.fakes.zalo import FakeZalo, ZaloUser
from tests.zalo.test_client import TOKEN

ROOT = Path(__file__).resolve().parents[2]
HOA = ZaloUser("8812345678901234567", "Lê Thị Hoa")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log_path: Path) -> str:
    return log_path.read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_zalo_only_bot_runs_answers_and_stops(tmp_path: Path, mode: str) -> None:
    async with FakeZalo(TOKEN) as zalo:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM", "ZALO", "BOT_", "WEBHOOK", "DATABASE", "REDIS"))
        }
        env.update(
            ZALO__TOKEN=TOKEN,
            ZALO__API_URL=zalo.url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            KEYS_DIR=str(tmp_path / "keys"),
            FILES_DIR=str(tmp_path / "files"),
            LOG_LEVEL="DEBUG",
        )
        if mode == "webhook":
            port = _free_port()
            env.update(
                WEBHOOK__URL=f"http://127.0.0.1:{port}/telegram",
                WEBHOOK__LISTEN=f"127.0.0.1:{port}",
                ZALO__WEBHOOK_SECRET="zalo-hook-secret-0123",
                WEBHOOK__SECRET="telegram-hook-secret-0123",
            )
        log_path = tmp_path / "bot.log"  # a file, not a pipe nobody reads while it runs
        with log_path.open("wb") as log_file:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=log_file,
            )
        try:
            # Started: it polls, or its webhook is set (answered, not merely asked for: an
            # update sent in between would be queued for a poll that never comes). Start-up
            # can take a minute on a loaded CI machine (aiogram's import alone is ~5 s here).
            for _ in range(1200):
                started = zalo.webhook_url if mode == "webhook" else "getUpdates" in zalo.calls
                if started or proc.returncode is not None:
                    break
                await asyncio.sleep(0.1)
            assert started, f"not started in 120 s:\n{_tail(log_path)}"
            await zalo.send_text(HOA, "/start")
            for _ in range(600):
                if zalo.texts_to(HOA):
                    break
                await asyncio.sleep(0.1)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise AssertionError(
                    f"not stopped 60 s after SIGTERM:\n{_tail(log_path)}"
                ) from None
    log = log_path.read_text(encoding="utf-8")
    assert proc.returncode == 0, log[-3000:]
    assert zalo.texts_to(HOA), log[-3000:]
    assert zalo.texts_to(HOA)[0].startswith("Xin chào Lê Thị Hoa! Đây là bot thi đua")
    assert f"Zalo bot starting ({'long polling' if mode == 'polling' else 'webhook'})" in log
    if mode == "webhook":
        assert zalo.webhook_replies == [200]
        assert "zalo-hook-secret-0123" not in log
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log
    assert "<ZALO_TOKEN>" in log  # httpx's request lines, redacted
