"""Publish/subscribe for the hall screens across the workers of `run --workers N`: Redis
pub/sub when Redis is configured, else PostgreSQL's LISTEN/NOTIFY. Each process holds one
listening connection whatever its number of screens and hands what it hears to its own
subscribers (a `LocalBroadcast`); its own messages come back to it the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.broadcast import LocalBroadcast, LocalSubscription
from storage.redis_client import redis_client

log = logging.getLogger(__name__)


class _Relay:
    """A process's one listener, started with its first subscriber and restarted (after a
    pause) when its connection drops; what it hears goes to this process's subscribers."""

    def __init__(
        self, name: str, listen: Callable[[LocalBroadcast, asyncio.Event], Awaitable[None]]
    ):
        self.local = LocalBroadcast()
        self._name = name
        self._listen = listen
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()
            self._task = asyncio.create_task(self._run())
        # The first subscriber waits (briefly) until the listener hears: nothing it is told
        # after this is missed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._ready.wait()), 5)

    async def _run(self) -> None:
        delays = iter((0.5, 1, 2, 5))
        while True:
            try:
                await self._listen(self.local, self._ready)
                delays = iter((0.5, 1, 2, 5))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("hall screens: %s listener lost (%s)", self._name, type(exc).__name__)
            self._ready.clear()
            await asyncio.sleep(next(delays, 10))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class RedisBroadcast:
    """Redis pub/sub; channels are named after the Redis database (`thidua:<db>:<topic>`), so
    installations sharing a server but not a database never hear each other."""

    def __init__(self, url: str) -> None:
        self._redis: Redis = redis_client(url)
        db = self._redis.connection_pool.connection_kwargs.get("db", 0)
        self._prefix = f"thidua:{db}:"
        self._relay = _Relay("Redis", self._listen)

    async def publish(self, topic: str, message: str) -> None:
        await self._redis.publish(self._prefix + topic, message)

    async def _listen(self, local: LocalBroadcast, ready: asyncio.Event) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(self._prefix + "*")
            ready.set()
            while True:
                found: dict[str, Any] | None = await pubsub.get_message(timeout=30)
                if found is None or found.get("type") != "pmessage":
                    continue
                channel, data = found["channel"], found["data"]
                topic = (channel.decode() if isinstance(channel, bytes) else str(channel))[
                    len(self._prefix) :
                ]
                local.deliver(topic, data.decode() if isinstance(data, bytes) else str(data))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.reset()  # closes its connection (aclose is untyped)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[LocalSubscription]:
        await self._relay.start()
        async with self._relay.local.subscribe(topic) as subscription:
            yield subscription

    async def close(self) -> None:
        await self._relay.close()
        await self._redis.aclose()


PG_CHANNEL = "thidua_hall"


class PostgresBroadcast:
    """PostgreSQL's LISTEN/NOTIFY on one channel of the database (a NOTIFY is delivered when
    its transaction commits; ours are their own): the payload is `<topic> <message>`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dsn = (
            make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self._relay = _Relay("PostgreSQL", self._listen)

    async def publish(self, topic: str, message: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": PG_CHANNEL, "payload": f"{topic} {message}"},
            )

    async def _listen(self, local: LocalBroadcast, ready: asyncio.Event) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._dsn)
        lost = asyncio.Event()

        def heard(_conn: object, _pid: int, _channel: str, payload: str) -> None:
            topic, _, message = payload.partition(" ")
            local.deliver(topic, message)

        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(PG_CHANNEL, heard)
            ready.set()
            while not lost.is_set():
                # A connection dropped without a word is noticed here.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), 30)
                if not lost.is_set():
                    await conn.execute("SELECT 1")
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[LocalSubscription]:
        await self._relay.start()
        async with self._relay.local.subscribe(topic) as subscription:
            yield subscription

    async def close(self) -> None:
        await self._relay.close()
