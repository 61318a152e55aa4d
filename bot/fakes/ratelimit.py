"""A rate limiter that never waits: for the demo and tests, whose fake Bot API sets no limit
(`bench/fanout.py` and the limits tests use the real budget against a limiting fake)."""

from __future__ import annotations


class NoRateLimit:
    async def acquire(self, chat: str, *, group: bool) -> None:
        del chat, group

    async def pause(self, seconds: float) -> None:
        del seconds
