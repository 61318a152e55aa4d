"""Helpers of the web tests: a sign-in link asked for in chat, a signed-in client, forms."""

from __future__ import annotations

import re
from typing import Any

from aiogram.types import User
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.handlers.conftest import Harness

WEB_URL = "http://127.0.0.1/web"
Client = TestClient[web.Request, web.Application]
_LINK = re.compile(r"/web/signin/([A-Za-z0-9_-]{43})")
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


async def link_from_chat(tg: Harness, user: User) -> str:
    """/web in Telegram: the path of the one-time sign-in link the reply carries."""
    replies = await tg.say(user, "/web")
    found = _LINK.search(replies[-1].text)
    assert found is not None, replies[-1].text
    return f"/web/signin/{found.group(1)}"


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


async def sign_in(client: Client, tg: Harness, user: User) -> str:
    """Open the link, press «Đăng nhập»; returns the first page after sign-in."""
    path = await link_from_chat(tg, user)
    page = await client.get(path)
    assert page.status == 200, await page.text()
    token = path.rsplit("/", 1)[1]
    done = await client.post(
        "/web/signin", data={"csrf": csrf_of(await page.text()), "token": token}
    )
    return await done.text()


async def post_form(client: Client, path: str, data: dict[str, Any] | None = None) -> str:
    """A form posted as the page's own (its CSRF token read from the page at `path`)."""
    page = await client.get(path)
    fields = {"csrf": csrf_of(await page.text()), **(data or {})}
    done = await client.post(path, data=fields)
    return await done.text()


async def redirected(client: Client, path: str, data: Any) -> str:
    """A form that succeeds, as the browser sends it: the POST answers 303 to a page of ours
    (post/redirect/get: a reload of that page never posts again); returns that page's path."""
    done = await client.post(path, data=data, allow_redirects=False)
    assert done.status == 303, (done.status, await done.text())
    location = done.headers["Location"]
    assert location.startswith("/web/"), location
    return location


async def page_text(client: Client, path: str) -> str:
    """A GET of one of our pages (a reload is another one), answered 200."""
    answer = await client.get(path)
    html = await answer.text()
    assert answer.status == 200, (answer.status, html)
    return html
