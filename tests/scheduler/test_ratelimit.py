"""The shared budget when the sending process is starved of CPU: a send that wakes too late for
its slot takes a new one instead of landing beside the next second's sends (Telegram's limit
is 30 in any second; the budget of 28 leaves two sends of slack)."""

from __future__ import annotations

import asyncio
import heapq
import itertools

import pytest

from scheduler import ratelimit
from scheduler.ratelimit import LocalRateLimiter
from tests.scheduler.test_sender import max_per_window


class VirtualTime:
    """A clock and a sleep on virtual time; between `stall` and its end the process runs
    nothing (every wake due then happens at the end, as on a starved event loop)."""

    def __init__(self, stall: tuple[float, float]) -> None:
        self.now = 0.0
        self.stall = stall
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._seq), woken))
        await woken

    async def run(self, tasks: list[asyncio.Task[float]]) -> None:
        while not all(t.done() for t in tasks):
            for _ in range(20):  # let every task that can run book or return
                await asyncio.sleep(0)
            if not self._sleepers:
                continue
            when, _, woken = heapq.heappop(self._sleepers)
            start, end = self.stall
            self.now = max(self.now, end if start <= when < end else when)
            woken.set_result(None)


async def _send_times() -> list[float]:
    """60 sends to 60 chats booked at once; the process stalls from 0.5 s to 0.65 s."""
    time = VirtualTime(stall=(0.5, 0.65))
    limiter = LocalRateLimiter(clock=time.clock, sleep=time.sleep)

    async def send(chat: int) -> float:
        await limiter.acquire(str(chat), group=False)
        return time.now

    tasks = [asyncio.create_task(send(chat)) for chat in range(60)]
    await time.run(tasks)
    return sorted(t.result() for t in tasks)


async def test_sends_woken_late_by_a_stall_take_new_slots() -> None:
    times = await _send_times()
    assert len(times) == 60
    assert max_per_window(times) <= 30


async def test_without_new_slots_the_stalled_sends_overrun_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control: sending on the stale slots puts the stalled ones beside the next
    second's own (as before the fix)."""
    monkeypatch.setattr(ratelimit, "LATE_REBOOKS", 0)
    times = await _send_times()
    assert max_per_window(times) > 30


async def test_a_rebooked_send_holds_up_no_other_chat() -> None:
    """A late send takes a global slot only: it already waited for its own chat, and waiting
    for that chat again (a second later) held every other chat's sends behind it."""
    time = VirtualTime(stall=(0.3, 0.42))
    limiter = LocalRateLimiter(clock=time.clock, sleep=time.sleep)

    async def send(chat: int, at: float = 0.0) -> float:
        if at:
            await time.sleep(at)
        await limiter.acquire(str(chat), group=False)
        return time.now

    queued = [asyncio.create_task(send(chat)) for chat in range(20)]
    later = asyncio.create_task(send(99, at=1.0))  # the queue has long been sent by then
    await time.run([*queued, later])
    assert max(t.result() for t in queued) < 0.9
    assert later.result() == 1.0
