"""The fake Bot API's opt-in flood limits: 30 messages in any one-second window, 1 per second
per chat, answered 429 with an integer retry_after and nothing delivered. The limits run on an
injected clock, so no assertion depends on how fast the machine is."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter

from bot.fakes.telegram import FakeTelegram

TOKEN = "123456:TEST-TOKEN"


class Frozen:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))
    yield client
    await client.session.close()


async def test_off_by_default(fake: FakeTelegram, bot: Bot) -> None:
    for _ in range(40):
        await bot.send_message(7, "hi")
    assert fake.limits is None
    assert fake.delivered[7] == 40
    assert fake.http429 == 0


async def test_31st_message_in_one_second_gets_429(fake: FakeTelegram, bot: Bot) -> None:
    clock = Frozen()
    fake.enforce_limits(clock=clock)
    for chat in range(1, 31):
        await bot.send_message(chat, "hi")
    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(31, "hi")
    assert refused.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in refused.value.message
    assert fake.delivered[31] == 0
    assert sum(fake.delivered.values()) == 30
    assert fake.http429 == 1
    assert fake.requests[-1].error_code == 429

    clock.t += 1.0  # the window has moved past all 30
    await bot.send_message(31, "hi")
    assert fake.delivered[31] == 1


async def test_window_slides(fake: FakeTelegram, bot: Bot) -> None:
    clock = Frozen()
    fake.enforce_limits(clock=clock)
    for chat in range(1, 16):
        await bot.send_message(chat, "early")
    clock.t += 0.5
    for chat in range(16, 31):
        await bot.send_message(chat, "late")
    clock.t += 0.6  # the first 15 are out of the window, the last 15 still in it
    for chat in range(31, 46):
        await bot.send_message(chat, "next")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(46, "one too many")
    assert sum(fake.delivered.values()) == 45


async def test_second_message_to_one_chat_within_a_second(fake: FakeTelegram, bot: Bot) -> None:
    clock = Frozen()
    fake.enforce_limits(clock=clock)
    await bot.send_message(5, "first")
    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(5, "second")
    assert refused.value.retry_after == 1
    await bot.send_message(6, "another chat is fine")
    clock.t += 0.999
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(5, "still too soon")
    clock.t += 0.001
    await bot.send_message(5, "second")
    assert [m.text for m in fake.messages_to(5)] == ["first", "second"]
    assert fake.delivered == {5: 2, 6: 1}
    assert fake.http429 == 2


async def test_retry_after_is_whole_seconds(fake: FakeTelegram, bot: Bot) -> None:
    clock = Frozen()
    fake.enforce_limits(chat_interval=3.0, clock=clock)
    await bot.send_message(-100, "group")
    clock.t += 0.5
    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(-100, "again")
    assert refused.value.retry_after == 3  # 2.5 s left, rounded up


async def test_refused_calls_do_not_count(fake: FakeTelegram, bot: Bot) -> None:
    """A 429 or a 400 takes no place in the window."""
    clock = Frozen()
    fake.enforce_limits(clock=clock)
    await bot.send_message(1, "first")
    for _ in range(50):
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(1, "flood")
    for chat in range(100, 110):
        with pytest.raises(TelegramBadRequest):
            await bot.send_message(chat, " ")  # empty text
    for chat in range(2, 31):
        await bot.send_message(chat, "fits")
    assert sum(fake.delivered.values()) == 30
    assert fake.http429 == 50
