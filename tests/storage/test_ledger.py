"""The ledger of handled updates: the first sighting wins, in memory and in Redis (shared by
workers, each key kept a day)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from storage.ledger import TTL_SECONDS, MemoryLedger, RedisLedger


async def test_memory_ledger_remembers_the_newest() -> None:
    ledger = MemoryLedger(remember=3)
    assert [await ledger.first(k) for k in ("a", "b", "a", "c", "d")] == [
        True, True, False, True, True,
    ]  # fmt: skip
    assert await ledger.first("a") is True  # forgotten: the oldest of four went


async def test_redis_ledger_is_shared_and_expires(redis_url: str) -> None:
    one, two = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        first, second = RedisLedger(one), RedisLedger(two)
        won = await asyncio.gather(*(ledger.first("tg:1:42") for ledger in (first, second) * 5))
        assert sorted(won) == [False] * 9 + [True]  # ten racing workers: one handles it
        ttl = await one.ttl("thidua:update:tg:1:42")
        assert 0 < ttl <= TTL_SECONDS
    finally:
        await one.aclose()
        await two.aclose()
