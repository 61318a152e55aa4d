"""One shared sending budget (design decision 10): ~28 messages/s overall, 1/s per private
chat, 20/min per group; a 429 pauses everyone for its retry_after.

Each limit is a GCRA schedule (a "virtual scheduling" token bucket without burst): the next
free moment per key, advanced by the key's interval at every grant. Evenly spaced grants at
28/s keep any one-second window under Telegram's 30. `LocalRateLimiter` keeps the schedule in
the process (only the tick-lock holder sends); `RedisRateLimiter` keeps it in Redis so that
several sender processes share one budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from redis.asyncio import Redis

GLOBAL_PER_SECOND = 28.0
# A send that wakes more than one interval after its slot would land in the next second's
# window beside that second's own sends (28/s leaves two sends of slack under 30): it takes a
# new slot instead — a few times at most, so that a starved process still sends.
LATE_REBOOKS = 3
PRIVATE_INTERVAL = 1.0  # seconds between two messages to one private chat
GROUP_INTERVAL = 3.0  # 20 per minute in one group


class RateLimiter(Protocol):
    async def acquire(self, chat: str, *, group: bool) -> None:
        """Wait until a message to `chat` fits every budget, and take its place."""
        ...

    async def pause(self, seconds: float) -> None:
        """The platform said 429: nobody sends for `seconds`."""
        ...


class LocalRateLimiter:
    def __init__(
        self,
        per_second: float = GLOBAL_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self.clock = clock
        self.sleep = sleep
        self._global = 0.0
        self._paused_until = 0.0  # after a 429: slots booked before it are booked again
        self._chats: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, chat: str, *, group: bool) -> None:
        rebooks = 0
        while True:
            async with self._lock:
                now = self.clock()
                # A rebooked send already waited for its chat: its new slot is a global one
                # only (waiting for the chat again would hold up every other chat behind it).
                chat_free = self._chats.get(chat, 0.0) if rebooks == 0 else 0.0
                start = max(now, self._global, chat_free, self._paused_until)
                self._global = start + self.interval
                spacing = GROUP_INTERVAL if group else PRIVATE_INTERVAL
                self._chats[chat] = max(self._chats.get(chat, 0.0), start + spacing)
                if len(self._chats) > 50_000:
                    self._chats = {k: v for k, v in self._chats.items() if v > now}
            wait = start - now
            if wait > 0:
                await self.sleep(wait)
            if self._paused_until > start:
                continue  # a 429 arrived meanwhile that covers this slot
            if self.clock() - start > self.interval and rebooks < LATE_REBOOKS:
                rebooks += 1
                continue  # woke too late for this slot
            return

    async def pause(self, seconds: float) -> None:
        async with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)
            self._global = max(self._global, self._paused_until)


# KEYS: global key, chat key. ARGV: now (ms), global interval (ms), chat interval (ms),
# "1" for a rebooked send (its chat was waited for already: a global slot only).
# Returns the wait in ms before the caller may send; the slot is reserved atomically.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
local c = tonumber(redis.call('GET', KEYS[2]) or '0')
local start = math.max(now, g)
if ARGV[4] ~= '1' then start = math.max(start, c) end
redis.call('SET', KEYS[1], start + tonumber(ARGV[2]), 'PX', 600000)
redis.call('SET', KEYS[2], math.max(c, start + tonumber(ARGV[3])), 'PX', 600000)
return start - now
"""

_PAUSE = """
local until_ms = tonumber(ARGV[1])
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > g then redis.call('SET', KEYS[1], until_ms, 'PX', 600000) end
return 1
"""


class RedisRateLimiter:
    """The same schedule in Redis (server time), shared by every sender process."""

    def __init__(
        self, redis: Redis, *, per_second: float = GLOBAL_PER_SECOND, prefix: str = "thidua:rl"
    ) -> None:
        self.redis = redis
        self.interval_ms = 1000.0 / per_second
        self.prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)

    async def _now_ms(self) -> float:
        seconds, micros = await self.redis.time()
        return seconds * 1000.0 + micros / 1000.0

    async def acquire(self, chat: str, *, group: bool) -> None:
        interval = (GROUP_INTERVAL if group else PRIVATE_INTERVAL) * 1000.0
        rebooks = 0
        while True:
            now = await self._now_ms()
            wait = float(
                await self._acquire(
                    keys=[f"{self.prefix}:global", f"{self.prefix}:chat:{chat}"],
                    args=[now, self.interval_ms, interval, "1" if rebooks else "0"],
                )
            )
            booked = time.monotonic()  # the slot is `wait` after this, by this process's clock
            if wait > 0:
                await asyncio.sleep(wait / 1000.0)
            # How late this process wakes for its slot: starved of CPU, it would bunch its
            # send with the next ones (the round trips to Redis are not counted).
            late_ms = (time.monotonic() - booked) * 1000.0 - max(wait, 0.0)
            paused = await self.redis.get(f"{self.prefix}:paused")
            if paused is not None and float(paused) > now + wait:
                continue  # a 429 since the booking covers this slot
            if late_ms > self.interval_ms and rebooks < LATE_REBOOKS:
                rebooks += 1
                continue
            return

    async def pause(self, seconds: float) -> None:
        until = await self._now_ms() + seconds * 1000.0
        await self._pause(keys=[f"{self.prefix}:global"], args=[until])
        await self._pause(keys=[f"{self.prefix}:paused"], args=[until])
