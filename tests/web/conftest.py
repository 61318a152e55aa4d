"""Web companion tests: the real aiohttp app (mounted under /web as on the bot's server) on
the same services as a Telegram harness that sets the bloc up through the real commands."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.services.app import Services
from handlers.web.app import mount_web
from handlers.web.base import WebConfig
from tests.handlers.conftest import Harness, make_harness
from tests.web.support import WEB_URL


@pytest.fixture
def tg(services: Services) -> Harness:
    return make_harness(services)


@pytest.fixture
def web_config() -> WebConfig:
    return WebConfig(WEB_URL, telegram_token="123456:" + "A" * 35)


@pytest.fixture
async def client(
    services: Services, tg: Harness, web_config: WebConfig
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """A browser-like client of the web companion (cookies kept), on the harness's services."""
    services.web_url = WEB_URL
    root = web.Application()
    mount_web(root, services, web_config)
    async with TestClient(TestServer(root)) as test_client:
        yield test_client
    _ = tg  # the harness wires services.outbox_flush before the client is used
