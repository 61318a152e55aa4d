"""Signing in from chat: the one-time link, the session cookie, sign-out, sign-out everywhere."""

from __future__ import annotations

from datetime import timedelta

from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup
from sqlmodel import select

from bot.fakes.clock import FakeClock
from bot.services.app import Services
from storage.tables import WebSessionRow, WebSignInRow
from tests.handlers.conftest import Harness
from tests.handlers.support import AN, report_setup
from tests.web.support import Client, csrf_of, link_from_chat, sign_in


async def test_a_link_from_telegram_signs_the_representative_in_once(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    replies = await tg.say(AN, "/web")
    assert "dùng được <b>một lần</b>" in replies[-1].text
    assert replies[-1].buttons[0] == ["🌐 Mở trang web"]
    assert replies[-1].buttons[-1] == ["🔒 Đăng xuất mọi nơi"]
    path = "/web/signin/" + replies[-1].text.split("/web/signin/")[1].split()[0]
    page = await client.get(path)
    assert page.status == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = await page.text()
    assert "Đăng nhập" in html
    # Only the hash is stored, and a GET spends nothing.
    async with services.db.uow() as uow:
        rows = [(r.token_hash, r.used_at) for r in (await uow.session.exec(select(WebSignInRow)))]
    assert len(rows) == 1
    assert rows[0][1] is None
    assert path.rsplit("/", 1)[1] not in rows[0][0]
    done = await client.post(
        "/web/signin", data={"csrf": csrf_of(html), "token": path.rsplit("/", 1)[1]}
    )
    assert done.status == 200
    assert "Sở Y tế" in await done.text()
    cookie = done.history[0].headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/web" in cookie
    # Used: a second press says so, with the way to a new link.
    again = await client.post(
        "/web/signin", data={"csrf": csrf_of(html), "token": path.rsplit("/", 1)[1]}
    )
    assert again.status in (400, 403)


async def test_an_expired_link_says_so_and_how_to_get_a_new_one(
    client: Client, tg: Harness, clock: FakeClock
) -> None:
    await report_setup(tg)
    path = await link_from_chat(tg, AN)
    clock.advance(timedelta(minutes=11))
    page = await client.get(path)
    assert page.status == 400
    html = await page.text()
    assert "đã hết hạn (hiệu lực 10 phút)" in html
    assert "trên Zalo gõ «web», trên Telegram gửi /web" in html


async def test_sign_out_everywhere_from_chat_ends_the_browser_session(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    assert (await client.get("/web/")).status == 200
    replies = await tg.say(AN, "/web đăng xuất")
    assert replies[-1].text == "🔒 Đã đăng xuất trang web trên mọi thiết bị (1 phiên)."
    page = await client.get("/web/")
    assert page.status == 401
    assert "chưa đăng nhập" in await page.text()
    async with services.db.uow() as uow:
        assert (await uow.session.exec(select(WebSessionRow))).all() == []


async def test_over_https_web_also_offers_the_telegram_mini_app(
    tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    services.web_url = "https://thidua.example.vn/web"
    replies = await tg.say(AN, "/web")
    assert replies[-1].buttons == [
        ["🌐 Mở trang web"],
        ["📱 Mở trong Telegram"],
        ["🔒 Đăng xuất mọi nơi"],
    ]
    sent = tg.bot.mock_session.requests[-1]
    assert isinstance(sent, SendMessage)
    assert isinstance(sent.reply_markup, InlineKeyboardMarkup)
    rows = sent.reply_markup.inline_keyboard
    assert (rows[0][0].url or "").startswith("https://thidua.example.vn/web/signin/")
    assert rows[1][0].web_app is not None
    assert rows[1][0].web_app.url == "https://thidua.example.vn/web/tma"
    # Over plain http (a test install) Telegram would refuse a Mini App: only the link.
    services.web_url = "http://127.0.0.1/web"
    replies = await tg.say(AN, "/web")
    assert replies[-1].buttons == [["🌐 Mở trang web"], ["🔒 Đăng xuất mọi nơi"]]
