"""`python -m bot run` in polling mode with WEB__URL: the web companion gets a server of its
own on WEBHOOK__LISTEN, and a person signs in there with the link /web gave in chat."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp

from bot.fakes.telegram import FakeTelegram
from tests.e2e.test_run import REP, TOKEN, _free_port, _say, _start_bot, _stop, _wait_started, fake

__all__ = ["fake"]

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


async def _until_listening(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientResponse:
    for _ in range(400):
        try:
            reply = await http.get(url)
            await reply.read()
            return reply
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"nothing listens at {url}")


async def test_polling_with_web_url_serves_the_web_companion(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = await _start_bot(
        fake, tmp_path, WEB__URL=f"{base}/web", WEBHOOK__LISTEN=f"127.0.0.1:{port}"
    )
    try:
        await _wait_started(fake, proc)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            signed_out = await _until_listening(http, f"{base}/web/signed-out")
            assert signed_out.status == 200
            assert signed_out.headers["Cache-Control"] == "no-store"
            async with http.get(f"{base}/healthz") as health:
                assert health.status == 200
            async with http.get(f"{base}/web/") as home:
                assert home.status == 401
            reply = (await _say(fake, REP, "/web"))[-1]
            link = re.search(rf"{re.escape(base)}/web/signin/[A-Za-z0-9_-]{{43}}", reply)
            assert link is not None, reply
            async with http.get(link.group(0)) as page:
                found = _CSRF.search(await page.text())
            assert found is not None
            token = link.group(0).rsplit("/", 1)[1]
            async with http.post(
                f"{base}/web/signin", data={"csrf": found.group(1), "token": token}
            ) as done:
                assert done.status == 200
                assert "Nguyễn Văn Thành" in await done.text()
    finally:
        err = await _stop(proc)
    assert proc.returncode == 0, err
    assert token not in err
    assert TOKEN.split(":")[1] not in err
    assert "web companion at" in err
