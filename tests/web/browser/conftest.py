"""Browser tests: Debian's Chromium driven by Playwright (pinned) through `executable_path`
(Playwright's own browser download cannot reach the internet here), at a phone's viewport,
against the real web companion served on a real port. Under CI a missing browser fails the
run; elsewhere the tests are skipped with the reason."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    async_playwright,
)

from bot.services.app import Services
from handlers.web.app import mount_web
from handlers.web.base import WebConfig
from tests.conftest import IN_CI
from tests.handlers.conftest import Harness, make_harness

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PHONE: ViewportSize = {"width": 360, "height": 740}


def _chromium() -> str:
    found = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if found is None:
        message = (
            f"Chromium is not installed ({CHROMIUM}): apt-get install chromium "
            "(.ci/run installs it)"
        )
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = _chromium()
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Live:
    """The web companion on a real port, the Telegram harness on the same services, and what
    the browser's console said (a CSP violation or a script error shows up there)."""

    base: str
    tg: Harness
    services: Services
    console: list[str] = field(default_factory=list)


@pytest.fixture
async def live(services: Services) -> AsyncIterator[Live]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}/web"
    services.web_url = base
    tg = make_harness(services)
    # The test's database is one connection (its outer transaction): a request at a time, as
    # the bot's pool would keep them apart. Else the page's autosave, fired while a slow
    # submit is handled, interleaves its savepoint with the submit's and breaks both.
    one_at_a_time = asyncio.Lock()

    @web.middleware
    async def serialised(request: web.Request, handler: Handler) -> web.StreamResponse:
        async with one_at_a_time:
            return await handler(request)

    root = web.Application(middlewares=[serialised])
    mount_web(root, services, WebConfig(base))
    server = TestServer(root, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        yield Live(base, tg, services)
    finally:
        await server.close()


@pytest.fixture
async def phone(browser: Browser, live: Live) -> AsyncIterator[Page]:
    """A phone-sized page (360 × 740, touch, Vietnamese)."""
    context: BrowserContext = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    page = await context.new_page()

    def noted(message: ConsoleMessage) -> None:
        # A page answered 4xx on purpose (a used link) logs "Failed to load resource": not a
        # fault of the page; a CSP violation ("Refused to …") or a script error is.
        if message.type in ("error", "warning") and "Failed to load resource" not in message.text:
            live.console.append(message.text)

    page.on("console", noted)
    page.on("pageerror", lambda exc: live.console.append(str(exc)))
    try:
        yield page
    finally:
        await context.close()
