"""The web companion's security points (issue 18), each shown by what a browser gets and what
the database holds: CSRF and other sites' posts, GETs that change nothing, bad sign-in links
and their limits, session fixation, sign-out everywhere from both chats, idle and lifetime
ends, moved accounts, sessions across workers, Mini App launch data, framing and the other
headers, templates the CSP allows, tokens kept out of logs, names shown literally."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram.types import User
from aiohttp import BodyPartReader, FormData, web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import col, select
from yarl import URL

from bot.config import Settings
from bot.core.models import Locale, Platform
from bot.core.websignin import sign_init_data
from bot.fakes.clock import FakeClock
from bot.fakes.zalo import ZaloUser
from bot.render import TEMPLATES_DIR, Renderer
from bot.services.actors import resolve_actor
from bot.services.app import Services
from bot.services.web import issue_signin
from handlers.telegram.ui import WebCb
from handlers.web.app import make_web_app, mount_web
from handlers.web.base import COOKIE, Limiter, WebConfig, page, upload_parts
from storage.files import FileStore
from storage.tables import AccountRow, IdentityRow, WebSessionRow, WebSignInRow
from storage.uow import Database
from tests.conftest import ADMIN, AUDIT_KEY, BALLOT_SECRET, START
from tests.handlers.conftest import GROUP, Harness, person
from tests.handlers.support import AN, BINH, CUONG, report_setup
from tests.web.support import WEB_URL, Client, csrf_of, link_from_chat, sign_in
from tests.zalo.helpers import Typist, typist, zalo, zbot

__all__ = ["typist", "zalo", "zbot"]

BOT_TOKEN = "123456:" + "A" * 35  # the `web_config` fixture's
HOA = ZaloUser("8812345678901234567", "Lê Thị Hoa")
HOSTILE = "<img src=x onerror=alert(1)>"


# ---------------------------------------------------------------------------- helpers


def cookie_of(client: Client) -> str | None:
    for cookie in client.session.cookie_jar:
        if cookie.key == COOKIE:
            return cookie.value
    return None


def plant(client: Client, value: str) -> None:
    """The browser holds this session cookie (as if a page or a person had put it there)."""
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({COOKIE: value}, URL(str(client.make_url("/web/"))))


async def signed_in_as(client: Client) -> str | None:
    """Whose name the home page shows, or None when it answers 401."""
    page = await client.get("/web/")
    if page.status == 401:
        return None
    html = await page.text()
    assert page.status == 200, html
    found = re.search(r'<span class="who">([^<]*)</span>', html)
    assert found is not None, html
    return found.group(1)


async def locale_of(services: Services, user: User) -> str:
    async with services.db.uow() as uow:
        identity = await uow.identities.by_account(Platform.TELEGRAM, str(user.id))
    assert identity is not None
    return identity.locale.value


async def session_rows(services: Services) -> int:
    async with services.db.uow() as uow:
        return len((await uow.session.exec(select(WebSessionRow))).all())


async def link_rows(services: Services) -> list[Any]:
    async with services.db.uow() as uow:
        return list((await uow.session.exec(select(WebSignInRow.used_at))).all())


def forged() -> str:
    return secrets.token_urlsafe(32)[:43]


HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def assert_secure_headers(response: aiohttp.ClientResponse, *, framed: bool = False) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    if framed:
        assert "frame-ancestors https://web.telegram.org" in csp
        assert "X-Frame-Options" not in response.headers
    else:
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"


# ------------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize("token", [None, "wrong", "é" * 43, ""])
async def test_a_post_without_the_session_token_is_refused_and_changes_nothing(
    client: Client, tg: Harness, services: Services, token: str | None
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    fields = {} if token is None else {"csrf": token}
    lang = await client.post("/web/lang", data={**fields, "lang": "en"})
    assert lang.status == 403
    assert "Biểu mẫu đã cũ hoặc không đến từ trang này" in await lang.text()
    assert await locale_of(services, AN) == "vi"
    # The same form as multipart (the poster chooses the enctype): refused too.
    multipart = FormData({**fields, "lang": "en"})
    multipart.add_field("x", b"", filename="x.bin")  # forces multipart/form-data
    assert (await client.post("/web/lang", data=multipart)).status == 403
    assert await locale_of(services, AN) == "vi"
    blocs = await client.post("/web/blocs", data={**fields, "bloc": "KTĐVHXH"})
    assert blocs.status == 403
    out = await client.post("/web/signout", data=fields)
    assert out.status == 403
    assert await session_rows(services) == 1
    assert await signed_in_as(client) == "Trần Văn An"


async def test_the_right_token_works_url_encoded_or_multipart(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    home = await sign_in(client, tg, AN)
    multipart = FormData({"csrf": csrf_of(home), "lang": "en"})
    multipart.add_field("x", b"", filename="x.bin")
    done = await client.post("/web/lang", data=multipart)
    assert done.status == 200
    assert await locale_of(services, AN) == "en"
    done = await client.post("/web/lang", data={"csrf": csrf_of(home), "lang": "vi"})
    assert done.status == 200
    assert await locale_of(services, AN) == "vi"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://127.0.0.1.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
async def test_a_post_from_another_site_is_refused_even_with_the_token(
    client: Client, tg: Harness, services: Services, headers: dict[str, str]
) -> None:
    await report_setup(tg)
    home = await sign_in(client, tg, AN)
    done = await client.post(
        "/web/lang", data={"csrf": csrf_of(home), "lang": "en"}, headers=headers
    )
    assert done.status == 403
    assert await locale_of(services, AN) == "vi"
    out = await client.post("/web/signout", data={"csrf": csrf_of(home)}, headers=headers)
    assert out.status == 403
    assert await signed_in_as(client) == "Trần Văn An"
    # Our own page's post (Origin null under no-referrer, or our origin) goes through.
    ours = await client.post(
        "/web/lang",
        data={"csrf": csrf_of(home), "lang": "en"},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )
    assert ours.status == 200
    assert await locale_of(services, AN) == "en"


async def test_a_get_never_changes_anything(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    path = await link_from_chat(tg, AN)
    for _ in range(3):  # a chat's link preview, a reload: the link is not spent
        assert (await client.get(path)).status == 200
    assert await link_rows(services) == [None]
    await sign_in(client, tg, AN)
    for method in ("GET", "HEAD"):
        for where in ("/web/signout", "/web/lang?lang=en", "/web/blocs?bloc=KTĐVHXH"):
            response = await client.request(method, where)
            assert response.status in (200, 405), (method, where, response.status)
    assert (await client.get("/web/signout")).status == 405
    assert (await client.put("/web/lang", data={"lang": "en"})).status == 405
    assert await locale_of(services, AN) == "vi"
    assert await signed_in_as(client) == "Trần Văn An"


async def test_the_sign_in_form_needs_its_own_token_doubled_in_a_cookie(
    client: Client, tg: Harness, services: Services
) -> None:
    """Nobody can sign a browser in as someone else by posting a link to it (login CSRF)."""
    await report_setup(tg)
    path = await link_from_chat(tg, AN)
    token = path.rsplit("/", 1)[1]
    done = await client.post("/web/signin", data={"csrf": "guess", "token": token})
    assert done.status == 403
    assert await link_rows(services) == [None]
    assert cookie_of(client) is None


# ------------------------------------------------------------------------ bad links


async def _problem(client: Client, path: str, lang: str = "vi") -> str:
    page = await client.get(path, headers={"Accept-Language": lang})
    assert page.status == 400
    assert_secure_headers(page)
    return await page.text()


ASK_VI = "Để lấy đường dẫn mới, nhắn cho bot: trên Zalo gõ «web», trên Telegram gửi /web."
ASK_EN = "To get a new link, message the bot: on Zalo type «web», on Telegram send /web."


async def test_used_expired_forged_and_truncated_links_say_why_and_how_to_get_one(
    client: Client, tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    used = await link_from_chat(tg, AN)
    page = await client.get(used)
    await client.post(
        "/web/signin", data={"csrf": csrf_of(await page.text()), "token": used.split("/")[-1]}
    )
    client.session.cookie_jar.clear()
    html = await _problem(client, used)
    assert "Đường dẫn đăng nhập này đã được dùng." in html
    assert ASK_VI in html
    html = await _problem(client, used, "en-GB,en;q=0.9")
    assert "This sign-in link has already been used. Each link works once." in html
    assert ASK_EN in html
    # Replayed by a browser that holds a good sign-in form (of another link): refused.
    other = await client.get(await link_from_chat(tg, CUONG))
    again = await client.post(
        "/web/signin", data={"csrf": csrf_of(await other.text()), "token": used.split("/")[-1]}
    )
    assert again.status == 400
    assert "Đường dẫn đăng nhập này đã được dùng." in await again.text()
    assert cookie_of(client) is None

    expired = await link_from_chat(tg, BINH)
    opened = await client.get(expired)  # the page opened in time, the button pressed late
    clock.advance(timedelta(minutes=11))
    late = await client.post(
        "/web/signin",
        data={"csrf": csrf_of(await opened.text()), "token": expired.split("/")[-1]},
    )
    assert late.status == 400
    assert "Đường dẫn đăng nhập đã hết hạn (hiệu lực 10 phút)." in await late.text()
    html = await _problem(client, expired)
    assert "Đường dẫn đăng nhập đã hết hạn (hiệu lực 10 phút)." in html
    assert ASK_VI in html
    html = await _problem(client, expired, "en")
    assert "This sign-in link has expired (links last 10 minutes)." in html

    for bad in (f"/web/signin/{forged()}", expired[:-5], expired[:-1], f"{expired}x"):
        html = await _problem(client, bad)
        assert "Đường dẫn đăng nhập không hợp lệ (có thể đã bị sao chép thiếu)." in html
        assert ASK_VI in html
    html = await _problem(client, f"/web/signin/{forged()}", "en")
    assert "This sign-in link is not valid (it may have been copied incompletely)." in html
    assert ASK_EN in html
    assert cookie_of(client) is None
    assert await session_rows(services) == 1  # An's, from the first link only


async def test_two_presses_at_once_sign_in_once(committed_db: Database, tmp_path: Path) -> None:
    """One UPDATE … WHERE used_at IS NULL: of two presses at once, one wins (a database that
    really commits: concurrent units of work need their own connections)."""
    services = _services(committed_db, FakeClock(START), tmp_path, "files")
    root = web.Application()
    mount_web(root, services, WebConfig(WEB_URL))
    async with TestClient(TestServer(root)) as client:
        issued = await issue_signin(services, await _actor(services, AN))
        assert issued is not None
        page = await client.get(f"/web/signin/{issued.token}")
        form = {"csrf": csrf_of(await page.text()), "token": issued.token}
        presses = await asyncio.gather(
            *(client.post("/web/signin", data=form, allow_redirects=False) for _ in range(4))
        )
        assert sorted(p.status for p in presses) == [303, 400, 400, 400]
        assert await session_rows(services) == 1


async def test_a_link_pasted_with_a_full_stop_still_works(client: Client, tg: Harness) -> None:
    await report_setup(tg)
    path = await link_from_chat(tg, AN)
    page = await client.get(f"{path}.")
    assert page.status == 200
    await client.post(
        "/web/signin", data={"csrf": csrf_of(await page.text()), "token": path.split("/")[-1]}
    )
    assert await signed_in_as(client) == "Trần Văn An"


async def test_the_twenty_first_bad_link_from_an_address_waits(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    good = await link_from_chat(tg, AN)
    page = await client.get(good)  # its form, opened before the guessing started
    pre = csrf_of(await page.text())
    for _ in range(10):
        assert (await client.get(f"/web/signin/{forged()}")).status == 400
        bad = await client.post("/web/signin", data={"csrf": pre, "token": forged()})
        assert bad.status == 400
    refused = await client.get(f"/web/signin/{forged()}")
    assert refused.status == 429
    html = await refused.text()
    assert "Đã thử quá nhiều lần. Vui lòng thử lại sau 10 phút." in html
    assert_secure_headers(refused)
    # From this address even a good link waits (the guesser cannot tell it was good).
    waits = await client.post("/web/signin", data={"csrf": pre, "token": good.split("/")[-1]})
    assert waits.status == 429
    english = await client.get(f"/web/signin/{forged()}", headers={"Accept-Language": "en"})
    assert "Too many attempts. Please try again in 10 minutes." in await english.text()
    assert await link_rows(services) == [None]


async def test_a_person_signs_in_only_so_often_and_the_link_is_not_spent(
    client: Client, tg: Harness, services: Services, web_config: WebConfig
) -> None:
    web_config.signins = Limiter(2, 600)
    await report_setup(tg)
    for _ in range(2):
        await sign_in(client, tg, AN)
        assert await signed_in_as(client) == "Trần Văn An"
    path = await link_from_chat(tg, AN)
    page = await client.get(path)
    third = await client.post(
        "/web/signin", data={"csrf": csrf_of(await page.text()), "token": path.split("/")[-1]}
    )
    assert third.status == 429
    assert "Vui lòng thử lại sau 10 phút." in await third.text()
    assert sorted(await link_rows(services), key=lambda u: u is None)[-1] is None
    # Another person is not held back by An's sign-ins.
    await sign_in(client, tg, BINH)
    assert await signed_in_as(client) == "Lê Thị Bình"


# ------------------------------------------------------------------------- sessions


async def test_a_cookie_planted_before_sign_in_is_replaced_and_grants_nothing(
    client: Client, tg: Harness
) -> None:
    await report_setup(tg)
    planted = forged()
    plant(client, planted)
    assert await signed_in_as(client) is None
    plant(client, planted)
    await sign_in(client, tg, AN)
    fresh = cookie_of(client)
    assert fresh is not None
    assert fresh != planted
    assert await signed_in_as(client) == "Trần Văn An"
    plant(client, planted)
    assert await signed_in_as(client) is None


async def test_signing_in_ends_the_session_the_browser_already_held(
    client: Client, tg: Harness, services: Services
) -> None:
    """Someone else's session left in a shared browser (or planted) does not live on."""
    await report_setup(tg)
    await sign_in(client, tg, CUONG)
    cuong = cookie_of(client)
    assert cuong is not None
    await sign_in(client, tg, AN)
    assert await signed_in_as(client) == "Trần Văn An"
    assert await session_rows(services) == 1
    plant(client, cuong)
    assert await signed_in_as(client) is None


async def test_the_session_cookie_is_http_only_lax_and_for_the_web_path(
    client: Client, tg: Harness
) -> None:
    await report_setup(tg)
    path = await link_from_chat(tg, AN)
    page = await client.get(path)
    done = await client.post(
        "/web/signin",
        data={"csrf": csrf_of(await page.text()), "token": path.split("/")[-1]},
        allow_redirects=False,
    )
    assert done.status == 303
    assert done.headers["Location"] == "/web/"
    cookie = next(c for c in done.headers.getall("Set-Cookie") if c.startswith(f"{COOKIE}="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/web" in cookie
    assert "Max-Age=86400" in cookie
    assert "Secure" not in cookie  # http here; under https see the next test
    assert_secure_headers(done)


async def test_under_https_cookies_are_secure_and_the_mini_app_may_be_framed(
    services: Services, tg: Harness
) -> None:
    await report_setup(tg)
    services.web_url = "https://127.0.0.1/web"
    root = web.Application()
    mount_web(root, services, WebConfig("https://127.0.0.1/web", telegram_token=BOT_TOKEN))
    async with TestClient(TestServer(root)) as https:
        issued = await issue_signin(services, await _actor(services, AN))
        assert issued is not None
        assert issued.mini_app_url == "https://127.0.0.1/web/tma"
        page = await https.get(f"/web/signin/{issued.token}")
        pre = next(c for c in page.headers.getall("Set-Cookie") if c.startswith("thidua_pre="))
        assert "Secure" in pre
        assert "SameSite=Strict" in pre
        done = await https.post(
            "/web/signin",
            data={"csrf": csrf_of(await page.text()), "token": issued.token},
            headers={"Cookie": pre.split(";")[0]},
            allow_redirects=False,
        )
        cookie = next(c for c in done.headers.getall("Set-Cookie") if c.startswith(f"{COOKIE}="))
        assert "Secure" in cookie
        assert "SameSite=Lax" in cookie
        # The Mini App, framed by web.telegram.org, is a third-party context.
        tma = await https.get("/web/tma")
        assert_secure_headers(tma, framed=True)
        pre = next(c for c in tma.headers.getall("Set-Cookie") if c.startswith("thidua_pre="))
        assert "SameSite=None" in pre
        assert "Partitioned" in pre
        assert "Secure" in pre
        done = await https.post(
            "/web/tma",
            data={"csrf": csrf_of(await tma.text()), "init_data": _launch(services, AN)},
            headers={"Cookie": pre.split(";")[0]},
            allow_redirects=False,
        )
        assert done.status == 303
        cookie = next(c for c in done.headers.getall("Set-Cookie") if c.startswith(f"{COOKIE}="))
        for part in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/web"):
            assert part in cookie
        session = {"Cookie": cookie.split(";")[0]}
        home = await https.get("/web/", headers=session)
        out = await https.post(
            "/web/signout",
            data={"csrf": csrf_of(await home.text())},
            headers=session,
            allow_redirects=False,
        )
        assert out.status == 303
        gone = next(c for c in out.headers.getall("Set-Cookie") if c.startswith(f"{COOKIE}="))
        assert "Max-Age=0" in gone
        assert "Partitioned" in gone


async def _actor(services: Services, user: User) -> Any:
    return await resolve_actor(
        services,
        platform=Platform.TELEGRAM,
        external_id=str(user.id),
        display_name=f"{user.first_name} {user.last_name or ''}",
        username=None,
    )


async def test_sign_out_everywhere_from_telegram_by_command_and_by_button(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    kept = cookie_of(client)
    replies = await tg.say(AN, "/web đăng xuất")
    assert replies[-1].text == "🔒 Đã đăng xuất trang web trên mọi thiết bị (1 phiên)."
    assert await signed_in_as(client) is None
    assert kept is not None
    plant(client, kept)
    page = await client.get("/web/")
    assert page.status == 401
    assert "Anh/chị chưa đăng nhập" in await page.text()
    assert_secure_headers(page)

    await sign_in(client, tg, AN)
    await tg.tap(AN, WebCb(action="out").pack())
    assert tg.alerts[-1] == "🔒 Đã đăng xuất trang web trên mọi thiết bị (1 phiên)."
    assert await signed_in_as(client) is None
    assert await session_rows(services) == 0


async def test_sign_out_here_ends_this_session_only(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    home = await sign_in(client, tg, AN)
    cookie = cookie_of(client)
    done = await client.post("/web/signout", data={"csrf": csrf_of(home)})
    assert done.status == 200
    assert "Anh/chị chưa đăng nhập" in await done.text()
    assert cookie_of(client) is None
    assert cookie is not None
    plant(client, cookie)
    assert await signed_in_as(client) is None
    assert await session_rows(services) == 0


async def test_a_session_ends_after_two_idle_hours(
    client: Client, tg: Harness, clock: FakeClock
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    clock.advance(timedelta(hours=1, minutes=59))
    assert await signed_in_as(client) == "Trần Văn An"  # a request: the idle clock restarts
    clock.advance(timedelta(hours=1, minutes=59))
    assert await signed_in_as(client) == "Trần Văn An"
    clock.advance(timedelta(hours=2))
    assert await signed_in_as(client) is None


async def test_a_session_ends_a_day_after_sign_in_however_busy(
    client: Client, tg: Harness, clock: FakeClock
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    for _ in range(13):  # every 1 h 50: never idle
        clock.advance(timedelta(hours=1, minutes=50))
        assert await signed_in_as(client) == "Trần Văn An"
    clock.advance(timedelta(hours=1, minutes=50))  # 25 h 40 after sign-in
    assert await signed_in_as(client) is None


async def test_a_session_of_an_account_moved_or_removed_grants_nothing(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    an = await _identity_id(services, AN)
    binh = await _identity_id(services, BINH)
    async with services.db.uow() as uow:  # An's Telegram account now acts for Bình
        await uow.identities.move_accounts(an, binh)
        await uow.commit()
    assert await signed_in_as(client) is None

    await sign_in(client, tg, CUONG)
    assert await signed_in_as(client) == "Phạm Văn Cường"
    async with services.db.uow() as uow:  # the account is gone
        row = (
            await uow.session.exec(
                select(AccountRow).where(col(AccountRow.external_id) == str(CUONG.id))
            )
        ).one()
        await uow.session.delete(row)
        await uow.commit()
    assert await signed_in_as(client) is None


async def _identity_id(services: Services, user: User) -> int:
    async with services.db.uow() as uow:
        identity = await uow.identities.by_account(Platform.TELEGRAM, str(user.id))
    assert identity is not None
    return identity.id


def _services(db: Database, clock: FakeClock, tmp: Path, name: str) -> Services:
    return Services(
        db=db,
        clock=clock,
        renderer=Renderer(),
        audit_key=AUDIT_KEY,
        ballot_secret=BALLOT_SECRET,
        files=FileStore(tmp / name),
        admins=frozenset({ADMIN}),
        bot_username="thidua_test_bot",
        web_url=WEB_URL,
    )


async def test_a_session_made_on_one_worker_works_on_another(
    committed_db: Database, tmp_path: Path
) -> None:
    """Two processes' worth of services and apps on one committed database."""
    clock = FakeClock(START)
    clients: list[Client] = []
    for name in ("w0", "w1"):
        services = _services(committed_db, clock, tmp_path, name)
        root = web.Application()
        mount_web(root, services, WebConfig(WEB_URL))
        clients.append(TestClient(TestServer(root)))
    first, second = clients
    async with first, second:
        services = _services(committed_db, clock, tmp_path, "w0")
        actor = await _actor(services, AN)
        issued = await issue_signin(services, actor)
        assert issued is not None
        page = await first.get(f"/web/signin/{issued.token}")
        await first.post(
            "/web/signin", data={"csrf": csrf_of(await page.text()), "token": issued.token}
        )
        cookie = cookie_of(first)
        assert cookie is not None
        plant(second, cookie)
        assert await signed_in_as(second) == "Trần Văn An"
        # Signed out on the second: the first knows at once.
        home = await second.get("/web/")
        await second.post("/web/signout", data={"csrf": csrf_of(await home.text())})
        assert await signed_in_as(first) is None


# ----------------------------------------------------------------------- Mini App


def _launch(services: Services, user: User, *, age: timedelta = timedelta(0)) -> str:
    when = services.clock.now() - age
    return sign_init_data(
        {
            "auth_date": str(int(when.timestamp())),
            "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
            "user": json.dumps({"id": user.id, "first_name": user.first_name}),
        },
        BOT_TOKEN,
    )


async def _mini_app(client: Client, init_data: str) -> aiohttp.ClientResponse:
    page = await client.get("/web/tma")
    assert page.status == 200
    return await client.post(
        "/web/tma", data={"csrf": csrf_of(await page.text()), "init_data": init_data}
    )


async def test_the_mini_app_signs_a_known_telegram_account_in(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    done = await _mini_app(client, _launch(services, AN))
    assert done.status == 200
    assert await signed_in_as(client) == "Trần Văn An"
    home = await client.get("/web/")
    assert_secure_headers(home, framed=True)  # a Mini App session stays framable by Telegram


async def test_the_mini_app_refuses_strangers_forgeries_and_old_data(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    stranger = person(4040, "Người", "Lạ")
    done = await _mini_app(client, _launch(services, stranger))
    assert done.status == 400
    assert "Tài khoản Telegram này chưa trò chuyện với bot." in await done.text()
    fields = dict(pair.split("=", 1) for pair in _launch(services, AN).split("&") if "=" in pair)
    forged_hash = "&".join(f"{k}={'0' * 64 if k == 'hash' else v}" for k, v in fields.items())
    done = await _mini_app(client, forged_hash)
    assert done.status == 400
    assert "Dữ liệu mở từ Telegram không đúng chữ ký." in await done.text()
    done = await _mini_app(client, _launch(services, AN, age=timedelta(hours=1, minutes=1)))
    assert done.status == 400
    assert "Dữ liệu mở từ Telegram đã quá một giờ." in await done.text()
    assert cookie_of(client) is None
    assert await session_rows(services) == 0
    # Launch data without the page's own token (posted by another page): refused.
    bare = await client.post("/web/tma", data={"init_data": _launch(services, AN)})
    assert bare.status == 403
    assert await session_rows(services) == 0


async def test_only_the_mini_app_page_may_be_framed_and_only_by_telegram_web(
    client: Client, tg: Harness
) -> None:
    tma = await client.get("/web/tma")
    assert_secure_headers(tma, framed=True)
    csp = tma.headers["Content-Security-Policy"]
    assert re.search(r"frame-ancestors https://web\.telegram\.org(;|$)", csp)
    for other in ("/web/signed-out", f"/web/signin/{forged()}", "/web/", "/web/nowhere"):
        response = await client.get(other)
        assert_secure_headers(response)
    await report_setup(tg)
    await sign_in(client, tg, AN)
    assert_secure_headers(await client.get("/web/"))


# -------------------------------------------------------------------------- headers


async def test_every_kind_of_response_carries_the_security_headers(
    client: Client, tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await report_setup(tg)
    assert_secure_headers(await client.get("/web/signed-out"))  # 200, public
    assert_secure_headers(await client.get("/web/"))  # 401
    path = await link_from_chat(tg, AN)
    page = await client.get(path)
    assert_secure_headers(page)  # 200, the sign-in page
    redirect = await client.post(
        "/web/signin",
        data={"csrf": csrf_of(await page.text()), "token": path.split("/")[-1]},
        allow_redirects=False,
    )
    assert redirect.status == 303
    assert_secure_headers(redirect)
    client.session.cookie_jar.update_cookies(redirect.cookies, URL(str(client.make_url("/"))))
    assert_secure_headers(await client.get("/web/"))  # 200, signed in
    forbidden = await client.post("/web/lang", data={"lang": "en"})
    assert forbidden.status == 403
    assert_secure_headers(forbidden)
    missing = await client.get("/web/nowhere")
    assert missing.status == 404
    assert "Không tìm thấy trang này" in await missing.text()
    assert_secure_headers(missing)
    wrong_method = await client.get("/web/signout")
    assert wrong_method.status == 405
    assert_secure_headers(wrong_method)

    async def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("handlers.web.home.deadlines_view", broken)
    failed = await client.get("/web/")
    assert failed.status == 500
    assert "Đã có lỗi. Thử lại sau ít phút." in await failed.text()
    assert_secure_headers(failed)
    static = await client.get("/web/static/app.js")
    assert static.status == 200
    assert static.headers["X-Content-Type-Options"] == "nosniff"
    assert "Cache-Control" not in static.headers or "no-store" not in static.headers.get(
        "Cache-Control", ""
    )


_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_HANDLER_ATTR = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_STYLE_ATTR = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
_STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
_JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def test_no_template_holds_what_the_csp_would_block() -> None:
    """Inline scripts, on…= handlers, style attributes and elements, javascript: URLs: the
    CSP (script-src 'self', style-src 'self') blocks them, so the page would break."""
    templates = sorted((TEMPLATES_DIR / "web").rglob("*.html"))
    assert len(templates) >= 10
    found: list[str] = []
    for template in templates:
        text = template.read_text(encoding="utf-8")
        for name, pattern in (
            ("inline <script>", _INLINE_SCRIPT),
            ("on…= attribute", _HANDLER_ATTR),
            ("style= attribute", _STYLE_ATTR),
            ("<style> element", _STYLE_ELEMENT),
            ("javascript: URL", _JS_URL),
        ):
            found += [f"{template.name}: {name}" for _ in pattern.finditer(text)]
    assert found == []


def test_the_template_scan_catches_each_kind() -> None:
    assert _INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not _INLINE_SCRIPT.search('<script src="/web/static/app.js" defer></script>')
    assert _HANDLER_ATTR.search('<button onclick="x()">')
    assert not _HANDLER_ATTR.search('<button data-confirm="1">')
    assert _STYLE_ATTR.search('<p style="color:red">')
    assert _STYLE_ELEMENT.search("<style>p{}</style>")
    assert _JS_URL.search('<a href="javascript:alert(1)">')


# ------------------------------------------------------------------------------ logs


async def test_neither_the_link_nor_the_cookie_reaches_a_log_line(
    tg: Harness, services: Services, caplog: pytest.LogCaptureFixture, unused_tcp_port: int
) -> None:
    """Through the bot's own server (bot.runtime._listen: no access log), a whole sign-in,
    a refused link, a refused form and a sign-out log nothing that signs anyone in."""
    from bot.runtime import _listen

    await report_setup(tg)
    services.web_url = WEB_URL
    settings = Settings(webhook={"listen": f"127.0.0.1:{unused_tcp_port}"})
    root = web.Application()
    mount_web(root, services, WebConfig(WEB_URL))
    caplog.set_level(logging.DEBUG)
    server = asyncio.create_task(_listen(root, settings, started=None, name="/web"))
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/web/signed-out") as ready:
                        if ready.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.02)
            path = await link_from_chat(tg, AN)
            token = path.split("/")[-1]
            async with http.get(f"{base}{path}") as page:
                form = csrf_of(await page.text())
            async with http.post(
                f"{base}/web/signin", data={"csrf": form, "token": token}
            ) as done:
                home = await done.text()
            cookie = next(c.value for c in http.cookie_jar if c.key == COOKIE)
            async with http.post(f"{base}/web/lang", data={"lang": "en"}) as refused:
                assert refused.status == 403
            async with http.get(f"{base}{path}") as used:
                assert used.status == 400
            async with http.post(f"{base}/web/signout", data={"csrf": csrf_of(home)}) as out:
                assert out.status == 200
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "signed in by a link" in logged  # the log is on, it names the identity only
    # (A session's CSRF token is no credential without the cookie: SQL debug lines show it.)
    assert token not in logged
    assert cookie not in logged
    assert "/signin/" not in logged
    assert not [r for r in caplog.records if r.name.startswith("aiohttp.access")]


# ---------------------------------------------------------------- names shown literally


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (HOSTILE, "&lt;img src=x onerror=alert(1)&gt;"),
        (unicodedata.normalize("NFD", "Nguyễn Thị Ánh"), "Nguyễn Thị Ánh"),
        ("Hoa 🌸 Lê ‍👩‍💻", "Hoa 🌸 Lê ‍👩‍💻"),
    ],
)
async def test_a_name_is_shown_literally_in_the_header(
    client: Client, tg: Harness, given: str, shown: str
) -> None:
    await report_setup(tg)
    user = person(2500, given)
    await sign_in(client, tg, user)
    page = await client.get("/web/")
    html = await page.text()
    assert f'<span class="who">{shown}</span>' in html
    assert "<img src=x" not in html


async def test_a_name_changed_to_markup_after_sign_in_is_shown_literally(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    home = await sign_in(client, tg, AN)
    async with services.db.uow() as uow:
        await uow.session.exec(
            IdentityRow.__table__.update().values(display_name=HOSTILE)  # type: ignore[attr-defined]
        )
        await uow.commit()
    html = await (await client.get("/web/blocs")).text()
    assert HOSTILE not in html
    assert csrf_of(home) in html


# ----------------------------------------------------------------------------- Zalo


async def test_web_on_zalo_answers_with_the_link_in_plain_text(
    client: Client, tg: Harness, typist: Typist
) -> None:
    await report_setup(tg)
    for words in ("web", "trang web", "Trang Web"):
        text = await typist.say(HOA, words)
        assert "Trang web thi đua" in text
        assert "<b>" not in text
        assert "/web/signin/" in text
        assert "Để đăng xuất trên mọi thiết bị, gõ: web đăng xuất" in text
    text = await typist.say(HOA, "web")
    path = "/web/signin/" + text.split("/web/signin/")[1].split()[0]
    page = await client.get(path)
    await client.post(
        "/web/signin", data={"csrf": csrf_of(await page.text()), "token": path.split("/")[-1]}
    )
    assert await signed_in_as(client) == "Lê Thị Hoa"
    said = await typist.say(HOA, "web đăng xuất")
    assert said == "🔒 Đã đăng xuất trang web trên mọi thiết bị (1 phiên)."
    assert await signed_in_as(client) is None
    assert await typist.say(HOA, "web dang xuat") == (
        "Anh/chị không đăng nhập trang web ở đâu cả."
    )


async def test_without_web_url_both_chats_say_the_web_companion_is_off(
    tg: Harness, typist: Typist, services: Services
) -> None:
    assert services.web_url is None
    replies = await tg.say(AN, "/web")
    assert replies[-1].text == (
        "Trang web thi đua chưa được bật trên bot này. "
        "Đề nghị người quản trị đặt <code>WEB__URL</code>."
    )
    assert replies[-1].buttons == []
    said = await typist.say(HOA, "web")
    assert said == (
        "Trang web thi đua chưa được bật trên bot này. Đề nghị người quản trị đặt WEB__URL."
    )
    assert await link_rows(services) == []


async def test_the_web_command_gives_links_in_private_only_and_english_too(
    tg: Harness, services: Services
) -> None:
    services.web_url = WEB_URL
    await report_setup(tg)
    in_group = await tg.say(AN, "/web", chat=GROUP)
    assert not any("/web/signin/" in r.text for r in in_group)
    assert await link_rows(services) == []
    await tg.say(AN, "/lang en")
    replies = await tg.say(AN, "/web")
    assert "The link works <b>once</b>" in replies[-1].text
    assert await locale_of(services, AN) == Locale.EN.value


# -------------------------------------------------------------------------- uploads


async def _upload_route(request: web.Request) -> web.StreamResponse:
    """What a streamed upload route does (POST /report/file): the first part is `csrf`."""
    reader = await upload_parts(request)
    if reader is None:
        return page(request, "error", status=403, code=403)
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    return web.Response(text=f"{part.name}:{len(await part.read())}")


@pytest.fixture
async def uploads(services: Services, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Client]:
    monkeypatch.setattr(
        "handlers.web.app.STREAMED_UPLOADS", frozenset({"/report/file", "/test/upload"})
    )
    services.web_url = WEB_URL
    app = make_web_app(services, WebConfig(WEB_URL))
    app.router.add_post("/test/upload", _upload_route)
    root = web.Application()
    root.add_subapp("/web", app)
    async with TestClient(TestServer(root)) as test_client:
        yield test_client


def _multipart(*fields: tuple[str, str | bytes]) -> FormData:
    form = FormData()
    for name, value in fields:
        if isinstance(value, bytes):
            form.add_field(name, value, filename="bao-cao.pdf")
        else:
            form.add_field(name, value)
    return form


async def test_a_streamed_upload_needs_the_token_as_its_first_part(
    uploads: Client, tg: Harness
) -> None:
    await report_setup(tg)
    home = await sign_in(uploads, tg, AN)
    token = csrf_of(home)
    data = b"%PDF-1.4 " + b"x" * 100
    for fields in (
        [("file", data)],
        [("csrf", "wrong"), ("file", data)],
        [("file", data), ("csrf", token)],  # the file read before the token: no
        [("csrf", token * 10), ("file", data)],
    ):
        done = await uploads.post("/web/test/upload", data=_multipart(*fields))
        assert done.status == 403, fields[0]
    done = await uploads.post("/web/test/upload", data=_multipart(("csrf", token), ("file", data)))
    assert done.status == 200
    assert await done.text() == f"file:{len(data)}"
    # Another site's upload, even with the token: refused before it is read.
    done = await uploads.post(
        "/web/test/upload",
        data=_multipart(("csrf", token), ("file", data)),
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert done.status == 403


async def test_the_report_upload_refuses_a_form_without_the_token(
    client: Client, tg: Harness, services: Services
) -> None:
    """POST /report/file (the report page's upload) through the same check."""
    await report_setup(tg)
    await sign_in(client, tg, AN)
    done = await client.post(
        "/web/report/file", data=_multipart(("file", b"%PDF-1.4 " + b"x" * 100))
    )
    assert done.status == 403
    assert services.files.root.exists() is False or not any(services.files.root.iterdir())
