"""Which updates have been handled, so one delivered twice (a Telegram retry after a worker
died mid-request, a Zalo re-delivery) is handled once — across workers when Redis is
configured (`SET NX` with a day's expiry), else in this process (the newest 100,000 ids)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis

REMEMBER = 100_000
TTL_SECONDS = 86_400  # Telegram stops retrying an update long before a day


class UpdateLedger(Protocol):
    async def first(self, key: str) -> bool:
        """True the first time `key` is seen (then it is remembered)."""
        ...


class MemoryLedger:
    def __init__(self, remember: int = REMEMBER) -> None:
        self.remember = remember
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def first(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self.remember:
            self._seen.popitem(last=False)
        return True


class RedisLedger:
    def __init__(self, redis: Redis, prefix: str = "thidua:update:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def first(self, key: str) -> bool:
        return bool(await self.redis.set(self.prefix + key, b"1", nx=True, ex=TTL_SECONDS))
