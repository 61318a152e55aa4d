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
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler, Middleware
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
    lock: asyncio.Lock  # held while the server or the chat uses the test's database
    console: list[str] = field(default_factory=list)


def _one_at_a_time(lock: asyncio.Lock) -> Middleware:
    """The test's services run in one transaction on one database connection, which two
    requests must not use at once (a page's autosave still running when «Nộp» is pressed, on
    a slow machine): the live server takes one request at a time — and the chat the test
    plays waits for it too (`Live.lock`) —, as no real deployment needs. A hall screen's
    event stream stays open and holds nothing, so it is let through."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.endswith("/events"):
            return await handler(request)
        async with lock:
            return await handler(request)

    return middleware


@pytest.fixture
async def live(services: Services) -> AsyncIterator[Live]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}/web"
    services.web_url = base
    tg = make_harness(services)
    lock = asyncio.Lock()
    dispatch = tg.dispatch

    async def one_at_a_time(obj: Any) -> list[Any]:
        async with lock:
            return await dispatch(obj)

    tg.dispatch = one_at_a_time  # type: ignore[method-assign]
    root = web.Application(middlewares=[_one_at_a_time(lock)])
    mount_web(root, services, WebConfig(base))
    server = TestServer(root, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        yield Live(base, tg, services, lock)
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
