"""The hall screens' publish/subscribe: within one process (asyncio queues), and between two
"workers" — two adapters of their own — through the real Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.ports import Broadcast
from storage.broadcast import QUEUE_SIZE, LocalBroadcast
from storage.broadcast_workers import PostgresBroadcast, RedisBroadcast
from tests.conftest import PG_URL, _unavailable, ensure_worker_database


async def _next(subscription: object) -> str:
    get = getattr(subscription, "get")  # noqa: B009 - LocalSubscription.get, awaited
    message: str = await asyncio.wait_for(get(), 5)
    return message


async def test_in_one_process_each_topic_reaches_its_subscribers_in_order() -> None:
    hub = LocalBroadcast()
    async with hub.subscribe("hall:1") as one, hub.subscribe("hall:1") as two:
        async with hub.subscribe("hall:2") as other:
            for n in range(3):
                await hub.publish("hall:1", f"m{n}")
            await hub.publish("hall:2", "elsewhere")
            assert [await _next(one) for _ in range(3)] == ["m0", "m1", "m2"]
            assert [await _next(two) for _ in range(3)] == ["m0", "m1", "m2"]
            assert await _next(other) == "elsewhere"
            assert one.queue.empty()
        assert hub.subscribers("hall:2") == 0
    assert hub.subscribers("hall:1") == 0
    await hub.publish("hall:1", "nobody listens")  # nothing kept


async def test_a_screen_that_does_not_read_loses_its_oldest_messages_only() -> None:
    hub = LocalBroadcast()
    async with hub.subscribe("hall:1") as slow:
        for n in range(QUEUE_SIZE + 5):
            await hub.publish("hall:1", str(n))  # never waits on the slow one
        assert slow.queue.qsize() == QUEUE_SIZE
        assert await _next(slow) == "5"


@pytest.fixture(params=["redis", "postgresql"])
def shared_by(request: pytest.FixtureRequest) -> str | None:
    """The Redis URL (flushed database), or None for PostgreSQL; resolved outside the loop."""
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        return url
    return None


@pytest.fixture
async def two_workers(shared_by: str | None) -> AsyncIterator[tuple[Broadcast, Broadcast]]:
    """Two processes' adapters on the same Redis database or PostgreSQL database."""
    if shared_by is not None:
        a, b = RedisBroadcast(shared_by), RedisBroadcast(shared_by)
        yield a, b
        await a.close()
        await b.close()
        return
    try:
        await ensure_worker_database()
    except OSError as exc:
        _unavailable("PostgreSQL", exc)
    engines = create_async_engine(PG_URL), create_async_engine(PG_URL)
    pa, pb = PostgresBroadcast(engines[0]), PostgresBroadcast(engines[1])
    yield pa, pb
    await pa.close()
    await pb.close()
    for engine in engines:
        await engine.dispose()


async def test_a_message_published_on_one_worker_reaches_the_other(
    two_workers: tuple[Broadcast, Broadcast],
) -> None:
    a, b = two_workers
    async with b.subscribe("hall:7") as there, a.subscribe("hall:7") as here:
        await a.publish("hall:8", '{"kind":"cast","ballot":1}')  # another bloc's
        await a.publish("hall:7", '{"kind":"cast","ballot":2}')
        assert await _next(there) == '{"kind":"cast","ballot":2}'
        assert await _next(here) == '{"kind":"cast","ballot":2}'  # its own come back too
        await b.publish("hall:7", '{"kind":"closed","ballot":2}')
        assert await _next(here) == '{"kind":"closed","ballot":2}'
        assert await _next(there) == '{"kind":"closed","ballot":2}'
