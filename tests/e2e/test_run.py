"""`python -m bot run` as a real process against the fake Bot API over real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.fakes.telegram import FakeTelegram, FakeUser

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "5000000002:AAHe2eE2Ee2eE2Ee2eE2Ee2eE2Ee2eE2Ee2"
SECRETARY = FakeUser(1001, "Lò Thị", "Hương")
REP = FakeUser(2001, "Nguyễn Văn", "Thành")
UNITS_CSV = "Tên đơn vị,Tên viết tắt\nSở Y tế,SYT\nSở Giáo dục và Đào tạo,SGDĐT\n".encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, bot_username="thidua_e2e_bot") as server:
        yield server


async def _start_bot(fake: FakeTelegram, tmp: Path, **extra: str) -> asyncio.subprocess.Process:
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
        **extra,
    )
    env.pop("REDIS_URL", None)
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


async def _wait_started(fake: FakeTelegram, proc: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if any(r.method == "setMyCommands" for r in fake.requests):
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
    )
    try:
        assert await fake.wait_webhook_set(timeout=20) == url
        async with aiohttp.ClientSession() as http:
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
        await _join_flow(fake)
    finally:
        err = await _stop(proc)
    assert proc.returncode == 0, err
    assert secret not in err
    assert TOKEN.split(":")[1] not in err


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
