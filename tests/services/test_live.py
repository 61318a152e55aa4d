"""Telling the hall screens is best effort: a broadcast that fails or stops answering never
holds, nor fails, the use case that told it (a cast's confirmation waits for it)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import cast

import pytest

from bot.services import live
from bot.services.app import Services


class Hanging:
    async def publish(self, _topic: str, _message: str) -> None:
        await asyncio.sleep(60)


class Broken:
    async def publish(self, _topic: str, _message: str) -> None:
        raise ConnectionError("refused")


@pytest.mark.parametrize("broadcast", [Hanging(), Broken()])
async def test_a_broadcast_that_hangs_or_fails_does_not_hold_the_use_case(
    broadcast: object, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(live, "TELL_TIMEOUT", 0.05)
    services = cast(Services, SimpleNamespace(broadcast=broadcast))
    start = time.monotonic()
    await live.tell_screens(services, 7, "cast", ballot=12)
    assert time.monotonic() - start < 1.0
    assert "hall screens not told of cast" in caplog.text
