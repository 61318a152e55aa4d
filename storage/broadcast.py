"""Publish/subscribe for the hall screens (the `Broadcast` port) within one process: asyncio
queues (the embedded profile, one worker; across workers see `broadcast_workers.py`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)

QUEUE_SIZE = 64  # messages only say "re-read": a slow screen loses old ones, never the last


class LocalSubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)

    async def get(self) -> str:
        return await self.queue.get()

    def put(self, message: str) -> None:
        if self.queue.full():  # a screen that does not read: drop its oldest message
            self.queue.get_nowait()
        self.queue.put_nowait(message)


class LocalBroadcast:
    """Subscribers of this process, per topic. `publish` never waits on a subscriber."""

    def __init__(self) -> None:
        self._topics: dict[str, set[LocalSubscription]] = {}

    async def publish(self, topic: str, message: str) -> None:
        self.deliver(topic, message)

    def deliver(self, topic: str, message: str) -> None:
        for subscription in tuple(self._topics.get(topic, ())):
            subscription.put(message)

    def subscribers(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[LocalSubscription]:
        subscription = LocalSubscription()
        self._topics.setdefault(topic, set()).add(subscription)
        try:
            yield subscription
        finally:
            found = self._topics.get(topic)
            if found is not None:
                found.discard(subscription)
                if not found:
                    del self._topics[topic]
