"""`python -m bot run` as a real process against the fake Bot API over real HTTP."""

from __future__ import annotations

import asyncio
import io
import os
import resource
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import col, select

from bot.core.deadlines import DAY
from bot.fakes.telegram import FakeTelegram, FakeUser
from bot.render import Renderer
from bot.runtime import TELEGRAM_SECRET_HEADER as TELEGRAM_SECRET
from bot.services.app import Services
from bot.services.clock import SystemClock
from scheduler.tick import Ticker
from storage.db import create_engine
from storage.files import FileStore
from storage.tables import OutboxRow
from storage.uow import Database
from tests.hostile.bodies import MALFORMED_UPDATES

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "5000000002:AAHe2eE2Ee2eE2Ee2eE2Ee2eE2Ee2eE2Ee2"
SECRETARY = FakeUser(1001, "Lò Thị", "Hương")
REP = FakeUser(2001, "Nguyễn Văn", "Thành")
UNITS_CSV = "Tên đơn vị,Tên viết tắt\nSở Y tế,SYT\nSở Giáo dục và Đào tạo,SGDĐT\n".encode()
NOT_AN_UPDATE = "Bad Request: not a Telegram update"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, bot_username="thidua_e2e_bot") as server:
        yield server


def _bot_env(fake: FakeTelegram, tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "WEBHOOK", "BOT_"))
    }
    env.update(
        TELEGRAM__TOKEN=TOKEN,
        TELEGRAM__API_URL=fake.url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'bot.db'}",
        KEYS_DIR=str(tmp / "keys"),
        FILES_DIR=str(tmp / "files"),
        ADMIN_IDS=f"telegram:{SECRETARY.id}",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    env.pop("REDIS_URL", None)
    return env


async def _start_bot(fake: FakeTelegram, tmp: Path, **extra: str) -> asyncio.subprocess.Process:
    env = _bot_env(fake, tmp, **extra)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop(proc: asyncio.subprocess.Process) -> str:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    except TimeoutError:
        proc.kill()
        _, err = await proc.communicate()
    return err.decode()


async def _say(fake: FakeTelegram, user: FakeUser, text: str) -> list[str]:
    mark = fake.mark()
    update = await fake.send_text(user, text)
    await fake.wait_for_messages(user.id, 1, timeout=20, since=mark)
    await fake.wait_processed(update, timeout=20)
    return [m.text or "" for m in fake.sent_since(mark) if m.chat_id == user.id]


async def _join_flow(fake: FakeTelegram) -> None:
    created = await _say(
        fake, SECRETARY, "/bloc new Khối thi đua Văn hóa - Xã hội; Khối; 2026; KTĐVHXH"
    )
    assert created[0].startswith("✅ Đã tạo <b>Khối thi đua Văn hóa - Xã hội</b>")
    mark = fake.mark()
    await fake.send_document(SECRETARY, "units.csv", UNITS_CSV, caption="/units import")
    imported = await fake.wait_for_messages(SECRETARY.id, 1, timeout=20, since=mark)
    assert imported[0].text is not None
    assert imported[0].text.startswith("✅ Đã nhập 2 đơn vị (khối có 2 đơn vị):")
    invite = (await _say(fake, SECRETARY, "/invite SYT"))[0]
    assert "https://t.me/thidua_e2e_bot?start=" in invite
    code = invite.split("?start=")[1].split()[0]
    mark = fake.mark()
    joined = await _say(fake, REP, f"/start {code}")
    assert joined == [
        "✅ Bạn đã tham gia <b>Khối thi đua Văn hóa - Xã hội</b> với tư cách đại diện của "
        "<b>Sở Y tế</b>.\nGõ /help để xem các lệnh."
    ]
    told = await fake.wait_for_messages(SECRETARY.id, 1, timeout=20, since=mark)
    assert told[0].text == (
        "👤 Nguyễn Văn Thành đã tham gia <b>Khối thi đua Văn hóa - Xã hội</b>: đại diện Sở Y tế."
    )
    # The same code again: used.
    again = await _say(fake, FakeUser(2002, "Người", "Khác"), f"/start {code}")
    assert again[0].startswith("Mã mời này đã được sử dụng.")


async def _wait_started(
    fake: FakeTelegram, proc: asyncio.subprocess.Process, since: int = 0
) -> None:
    """Until the process has set its menus (`since`: requests of earlier processes to skip);
    up to a minute: a loaded machine (CI beside other jobs) starts Python slowly."""
    for _ in range(1200):
        if any(r.method == "setMyCommands" for r in fake.requests[since:]):
            return
        if proc.returncode is not None:
            break
        await asyncio.sleep(0.05)
    err = await _stop(proc)
    raise AssertionError(f"bot did not start:\n{err}")


async def test_polling_join(fake: FakeTelegram, tmp_path: Path) -> None:
    proc = await _start_bot(fake, tmp_path)
    try:
        await _wait_started(fake, proc)
        await _join_flow(fake)
    finally:
        err = await _stop(proc)
    assert proc.returncode == 0, err
    assert TOKEN.split(":")[1] not in err
    commands = fake.commands
    assert any(cmd["command"] == "start" for cmd in next(iter(commands.values())))


async def test_no_admin_and_no_bloc_is_warned_at_start(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    proc = await _start_bot(fake, tmp_path, ADMIN_IDS="")
    try:
        await _wait_started(fake, proc)
        for _ in range(1200):  # polling: its signal handlers are in place
            if any(r.method == "getUpdates" for r in fake.requests):
                break
            await asyncio.sleep(0.05)
    finally:
        err = await _stop(proc)
    assert proc.returncode == 0, err
    assert (
        " WARNING bot: ADMIN_IDS is empty and there is no bloc yet: nobody can create one. "
        "Send /me to the bot (or «toi» on Zalo) to see your account id, put it in ADMIN_IDS "
        "(e.g. ADMIN_IDS=telegram:123456789) and restart\n"
    ) in err


async def test_webhook_join_and_wrong_secret(fake: FakeTelegram, tmp_path: Path) -> None:
    port = _free_port()
    secret = "e2e-webhook-secret-123"
    url = f"http://127.0.0.1:{port}/tg/webhook"
    proc = await _start_bot(
        fake,
        tmp_path,
        WEBHOOK__URL=url,
        WEBHOOK__SECRET=secret,
        WEBHOOK__LISTEN=f"127.0.0.1:{port}",
        WEB__URL=f"http://127.0.0.1:{port}/web",
    )
    try:
        assert await fake.wait_webhook_set(timeout=20) == url
        async with aiohttp.ClientSession() as http:
            # The web companion is served beside the webhook, on the same server.
            async with http.get(f"http://127.0.0.1:{port}/web/signed-out") as resp:
                assert resp.status == 200
                assert "Anh/chị chưa đăng nhập" in await resp.text()
                assert resp.headers["X-Frame-Options"] == "DENY"
            update = {
                "update_id": 999,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 5, "type": "private"},
                    "text": "/help",
                },
            }
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong-secret"}, {}):
                async with http.post(url, json=update, headers=headers) as resp:
                    assert resp.status == 401
            # The right secret, a body that is not an update: 400 at once, nothing logged
            # but a warning (before: 500 and a traceback, or 200 and a failed task).
            right = {"X-Telegram-Bot-Api-Secret-Token": secret}
            for body in MALFORMED_UPDATES:
                async with http.post(url, data=body, headers=right) as resp:
                    assert (resp.status, await resp.text()) == (400, NOT_AN_UPDATE), body[:40]
            async with http.post(
                url, json=update, headers={**right, "Content-Type": "text/plain; charset=x-no"}
            ) as resp:
                assert resp.status == 400  # a charset nobody knows
            too_big = io.BytesIO(b"{" + b" " * 2**20 + b"}")
            async with http.post(url, data=too_big, headers=right) as resp:
                assert resp.status == 413  # aiohttp's client_max_size (1 MiB)
        await _join_flow(fake)
    finally:
        err = await _stop(proc)
    assert proc.returncode == 0, err
    assert secret not in err
    assert TOKEN.split(":")[1] not in err
    assert "Traceback" not in err
    assert "Error handling request" not in err
    assert " ERROR " not in err
    assert err.count("webhook: not a Telegram update") == len(MALFORMED_UPDATES) + 1


def _few_files() -> None:
    # In the bot's process, before exec: 256 open files, soft and hard (it cannot raise them).
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


async def _half_open(port: int, head: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    return reader, writer


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        await asyncio.wait_for(reader.read(), 90)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


async def test_half_open_connections_do_not_lock_the_webhook_out(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """Many connections that never finish their head (no secret needed) and a few that
    never send their body, against a bot allowed 256 open files: the webhook and /healthz
    keep answering, the server closes those connections, the log stays small. Before:
    accept failed for want of descriptors, nothing was answered until they were released,
    idle half-requests stayed open for good and asyncio logged a traceback per accept."""
    port = _free_port()
    secret = "e2e-webhook-secret-123"
    url = f"http://127.0.0.1:{port}/tg/webhook"
    listen = f"127.0.0.1:{port}"
    env = _bot_env(
        fake, tmp_path, WEBHOOK__URL=url, WEBHOOK__SECRET=secret, WEBHOOK__LISTEN=listen
    )
    log = tmp_path / "bot.log"
    with log.open("wb") as out:  # a file: a pipe nobody reads would stall a chatty bot
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=ROOT, env=env, stdout=out, stderr=out, preexec_fn=_few_files,
        )  # fmt: skip
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        assert await fake.wait_webhook_set(timeout=180) == url
        for _ in range(400):
            held.append(await _half_open(port, b"POST /tg/webhook HTTP/1.1\r\nHost: bot\r\n"))
        for _ in range(5):  # the whole head, with the secret, and a body that never comes
            head = (
                f"POST /tg/webhook HTTP/1.1\r\nHost: bot\r\n{TELEGRAM_SECRET}: {secret}\r\n"
                "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"
            )
            held.append(await _half_open(port, head.encode()))

        timeout = aiohttp.ClientTimeout(total=5)
        health: list[int] = []
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for _ in range(12):  # each try on a new connection
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as reply:
                        health.append(reply.status)
                        break
                except (aiohttp.ClientError, TimeoutError):
                    health.append(0)
        assert health[-1] == 200, health
        mark = fake.mark()
        update = await fake.send_text(REP, "/help")
        await fake.wait_for_messages(REP.id, 1, timeout=30, since=mark)
        await fake.wait_processed(update, timeout=30)

        closed = await asyncio.gather(*(_closed_by_server(reader) for reader, _ in held))
        assert closed.count(False) == 0
    finally:
        for _, writer in held:
            writer.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert proc.returncode == 0, text[-3000:]
    assert log.stat().st_size < 20_000, text[:3000]
    assert "Traceback" not in text
    assert "(at most 128 connections)" in text


async def test_placeholder_token_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "BOT_"))}
    env.update(BOT_TOKEN="your-bot-token-here", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().strip() == (
        "thidua-bot: TELEGRAM__TOKEN looks like a placeholder: put the real value in .env"
    )


async def _plan_only(tmp: Path, due_in: timedelta) -> list[str]:
    """In this process, on the bot's database: a custom deadline due soon, then a tick that
    plans its reminder into the outbox and sends nothing (a worker stopped right after
    planning). Returns the dedup keys of the reminders waiting in the outbox."""
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp / 'bot.db'}"))
    clock = SystemClock()
    services = Services(
        db=db,
        clock=clock,
        renderer=Renderer(),
        audit_key=b"\0" * 32,  # the planner writes no audit row
        ballot_secret=b"\0" * 32,
        files=FileStore(tmp / "files"),
    )
    try:
        async with db.uow() as uow:
            bloc = (await uow.blocs.all())[0]
            now = clock.now()
            # Set yesterday: its reminder times came while no worker was running.
            await uow.deadlines.add(
                bloc.id, "Nộp hồ sơ khen thưởng", now + due_in, created_by=1, now=now - DAY
            )
            await uow.commit()
        await Ticker(services, None).tick()
        async with db.uow() as uow:
            rows = await uow.session.exec(
                select(OutboxRow.dedup_key).where(
                    col(OutboxRow.dedup_key).startswith("remind:"),
                    col(OutboxRow.sent_at).is_(None),
                )
            )
            return list(rows.all())
    finally:
        await db.dispose()


async def test_reminders_planned_before_a_restart_are_sent_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    proc = await _start_bot(fake, tmp_path)
    try:
        await _wait_started(fake, proc)
        await _join_flow(fake)
        # No quiet hours, so that the reminder is due whatever the time of day of the run.
        quiet = await _say(fake, SECRETARY, "/deadlines quiet tắt")
        assert quiet[0].endswith("Giờ yên lặng: không có.")
    finally:
        err = await _stop(proc)
    assert proc.returncode == 0, err

    # Planned (the 2-hour reminder of a deadline 1 h 50 min away), then the worker stops.
    keys = await _plan_only(tmp_path, timedelta(hours=1, minutes=50))
    assert len(keys) == 1
    assert keys[0].endswith(":7200")
    before = len(fake.messages_to(REP.id))

    # The next process sends it at its first tick ...
    started = len(fake.requests)
    proc = await _start_bot(fake, tmp_path)
    try:
        await _wait_started(fake, proc, started)
        reminded = await fake.wait_for_messages(REP.id, before + 1, timeout=20, since=0)
    finally:
        err = await _stop(proc)
    assert proc.returncode == 0, err
    text = reminded[before].text or ""
    assert text.startswith(
        "⏰ <b>Nhắc hạn</b> — Sở Y tế\nNộp hồ sơ khen thưởng: đơn vị chưa bấm «Đã nhận».\n"
        "Hạn chót: "
    )
    assert text.endswith("(còn 1 giờ 50 phút).")

    # ... and one more restart sends nothing again.
    started = len(fake.requests)
    proc = await _start_bot(fake, tmp_path)
    try:
        await _wait_started(fake, proc, started)
        await asyncio.sleep(3)  # the first tick runs at start
    finally:
        err = await _stop(proc)
    assert proc.returncode == 0, err
    assert len(fake.messages_to(REP.id)) == before + 1
