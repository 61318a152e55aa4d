"""The Zalo client against the fake Zalo Bot API: one update per poll and a quiet 408 when
idle, texts split under 2,000 characters at line boundaries, 429 and 5xx retried, other
errors raised, webhook bodies bare or wrapped, and the token in no log line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot.fakes.zalo import FakeZalo, ZaloUser
from handlers.zalo.client import ZaloClient, ZaloError, parse_update

TOKEN = "1234567890:zalo-secret-token-abcdefghijklmnop"
HOA = ZaloUser("8812345678901234567", "Lê Thị Hoa")


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(TOKEN) as fake:
        yield fake


@pytest.fixture
async def client(zalo: FakeZalo) -> AsyncIterator[ZaloClient]:
    bot = ZaloClient(TOKEN, zalo.url, backoff=0.01)
    yield bot
    await bot.close()


async def test_one_update_per_poll_and_an_idle_poll_is_none(
    zalo: FakeZalo, client: ZaloClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await zalo.send_text(HOA, "/start ABCD-EFGH")
    await zalo.send_text(HOA, "bỏ phiếu")
    first = await client.get_update(poll_seconds=1)
    second = await client.get_update(poll_seconds=1)
    assert first is not None
    assert second is not None
    assert (first.message.text, first.message.sender.id, first.message.chat.id) == (
        "/start ABCD-EFGH",
        HOA.id,
        HOA.id,
    )
    assert first.is_text
    assert first.is_private
    assert first.message.sender.display_name == "Lê Thị Hoa"
    assert second.message.text == "bỏ phiếu"
    assert await client.get_update(poll_seconds=0) is None  # HTTP 408: nothing arrived
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert any("<ZALO_TOKEN>" in r.getMessage() for r in caplog.records)  # httpx's lines


async def test_long_texts_are_split_at_lines_under_two_thousand_characters(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    lines = [f"{n}. Sở Văn hóa, Thể thao và Du lịch tỉnh Điện Biên — chưa nộp" for n in range(80)]
    text = "\n".join(lines)
    assert len(text) > 4000
    sent = await client.send_text(HOA.id, text)
    parts = zalo.texts_to(HOA)
    assert sent == len(parts) == 3
    assert all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts) == text  # nothing lost, cut between lines


async def test_429_and_5xx_are_retried_other_errors_raised(
    zalo: FakeZalo, client: ZaloClient, caplog: pytest.LogCaptureFixture
) -> None:
    zalo.fail_next("sendMessage", 429, times=2)
    zalo.fail_next("sendMessage", 502)
    await client.send_text(HOA.id, "Nhắc hạn chót")
    assert zalo.texts_to(HOA) == ["Nhắc hạn chót"]
    assert zalo.calls.count("sendMessage") == 4
    zalo.fail_next("sendMessage", 500, times=5)  # every attempt
    with pytest.raises(ZaloError) as failed:
        await client.send_text(HOA.id, "x")
    assert failed.value.code == 500
    with pytest.raises(ZaloError) as bad:
        await client.call("sendMessage", {"chat_id": 42, "text": "x"})  # ids are strings
    assert bad.value.code == 400
    wrong = ZaloClient("0:wrong-token", zalo.url, backoff=0.01)
    with pytest.raises(ZaloError) as unauthorized:
        await wrong.get_me()
    await wrong.close()
    assert unauthorized.value.code == 401
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert TOKEN not in repr(client)
    assert TOKEN not in str(failed.value)


async def test_webhook_bodies_bare_or_wrapped_and_garbage(zalo: FakeZalo) -> None:
    update = zalo.update(HOA, "/vote")
    assert parse_update(update) == parse_update({"ok": True, "result": update})
    parsed = parse_update(update)
    assert parsed is not None
    assert parsed.message.message_id == update["message"]["message_id"]
    assert parse_update({"event_name": "message.text.received"}) is None
    assert parse_update("not json") is None
    assert parse_update([update]) is None


async def test_a_poll_waits_for_the_next_message(zalo: FakeZalo, client: ZaloClient) -> None:
    poll = asyncio.create_task(client.get_update(poll_seconds=5))
    await asyncio.sleep(0.1)
    await zalo.send_text(HOA, "1")
    update = await asyncio.wait_for(poll, 5)
    assert update is not None
    assert update.message.text == "1"
