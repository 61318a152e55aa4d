"""What the Zalo tests share: the fake Zalo, a bot on it, and a person typing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.models import Platform
from bot.fakes.zalo import FakeZalo, ZaloUser
from bot.services.app import Services
from handlers.zalo.bot import ZaloBot
from handlers.zalo.client import ZaloClient

TOKEN = "1234567890:zalo-secret-token-abcdefghijklmnop"


class Typist:
    """Messages typed on Zalo, each answered before the next."""

    def __init__(self, zalo: FakeZalo, zbot: ZaloBot) -> None:
        self.zalo, self.zbot = zalo, zbot

    async def say(self, user: ZaloUser, text: str) -> str:
        """What the bot answered `user` (several messages joined by a blank line)."""
        before = len(self.zalo.texts_to(user))
        await self.zalo.send_text(user, text)
        update = await self.zbot.client.get_update(1)
        assert update is not None
        await self.zbot.handle(update)
        return "\n\n".join(self.zalo.texts_to(user)[before:])


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(TOKEN) as fake:
        yield fake


@pytest.fixture
async def zbot(zalo: FakeZalo, services: Services) -> AsyncIterator[ZaloBot]:
    client = ZaloClient(TOKEN, zalo.url, backoff=0.01)
    services.channels = frozenset({Platform.TELEGRAM, Platform.ZALO})  # linking is offered
    yield ZaloBot(services, client)
    await client.close()


@pytest.fixture
def typist(zalo: FakeZalo, zbot: ZaloBot) -> Typist:
    return Typist(zalo, zbot)
