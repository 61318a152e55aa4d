"""The Zalo channel end to end against the fake Zalo Bot API: a representative joins by
sending the invite code (with /start or bare), is answered in plain text, duplicate
deliveries are ignored, images and groups get no ballot content, the webhook checks its
secret and refuses what is not an update."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.core.models import Platform
from bot.fakes.ratelimit import NoRateLimit
from bot.fakes.zalo import FakeZalo, ZaloUser
from bot.services.app import Services
from handlers.channels import Channels
from handlers.telegram.notifier import TelegramNotifier
from handlers.zalo.bot import ZaloBot
from handlers.zalo.client import ZaloClient
from handlers.zalo.notifier import ZaloNotifier
from scheduler.sender import Sender
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import AN, UNITS, join
from tests.hostile.bodies import MALFORMED_UPDATES
from tests.zalo.test_client import TOKEN

HOA = ZaloUser("8812345678901234567", "Lê Thị Hoa")
MAI = ZaloUser("8812345678901234599", "Quàng Thị Mai")


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(TOKEN) as fake:
        yield fake


@pytest.fixture
async def zbot(zalo: FakeZalo, services: Services) -> AsyncIterator[ZaloBot]:
    client = ZaloClient(TOKEN, zalo.url, backoff=0.01)
    yield ZaloBot(services, client)
    await client.close()


async def _poll_once(zbot: ZaloBot) -> None:
    update = await zbot.client.get_update(1)
    assert update is not None
    await zbot.handle(update)


async def test_a_representative_joins_on_zalo_with_the_code(
    tg: Harness, services: Services, zalo: FakeZalo, zbot: ZaloBot
) -> None:
    await tg.admin_setup(units=UNITS)
    code = await tg.invite_code("1")
    await zalo.send_text(HOA, f"/start {code}")
    await _poll_once(zbot)
    assert zalo.texts_to(HOA) == [
        "✅ Bạn đã tham gia Khối thi đua Văn hóa - Xã hội với tư cách đại diện của Sở Y tế.\n"
        "Gõ tro giup để xem các lệnh."
    ]
    async with services.db.uow() as uow:
        identity = await uow.identities.by_account(Platform.ZALO, HOA.id)
        assert identity is not None
        members = await uow.identities.members_of_bloc((await uow.blocs.all())[0].id)
    assert any(i.id == identity.id and m.unit_id is not None for m, i in members)

    # A bare code works too; a used one is refused in words.
    await zalo.send_text(MAI, code)
    await _poll_once(zbot)
    assert zalo.texts_to(MAI)[-1].startswith("Mã mời này đã được sử dụng.")
    second = await tg.invite_code("2")
    await zalo.send_text(MAI, f"  {second} ")
    await _poll_once(zbot)
    assert "Sở Giáo dục và Đào tạo" in zalo.texts_to(MAI)[-1]

    # Standings in plain text, help without diacritics, anything else: a hint.
    await zalo.send_text(HOA, "xep hang")
    await _poll_once(zbot)
    assert zalo.texts_to(HOA)[-1].startswith("📊 Bảng xếp hạng — Khối thi đua Văn hóa - Xã hội")
    await zalo.send_text(HOA, "tro giup")
    await _poll_once(zbot)
    assert zalo.texts_to(HOA)[-1].startswith("Các lệnh trên Zalo")
    await zalo.send_text(HOA, "nộp báo cáo")
    await _poll_once(zbot)
    assert zalo.texts_to(HOA)[-1].startswith("Zalo không cho bot nhận tệp")
    # With the web companion on, the report goes there: the reply says how to get the link.
    zbot.services.web_url = "https://thidua.example.vn/web"
    await zalo.send_text(HOA, "nộp báo cáo")
    await _poll_once(zbot)
    assert zalo.texts_to(HOA)[-1].startswith(
        "Zalo không cho bot nhận tệp. Nộp tệp báo cáo năm và tự chấm điểm trên trang web thi đua:"
        " gõ web để nhận đường dẫn đăng nhập"
    )
    # A secretariat command on Zalo points to the console on the web.
    await zalo.send_text(HOA, "/ballot open 1")
    await _poll_once(zbot)
    assert zalo.texts_to(HOA)[-1] == (
        "Lệnh /ballot là lệnh của thường trực. Trên Zalo, thường trực làm việc này ở bảng điều "
        "hành trên trang web thi đua: gõ web để nhận đường dẫn đăng nhập, rồi chọn «Thường "
        "trực». Trên Telegram vẫn dùng được lệnh này; gõ lien ket để liên kết hai tài khoản."
    )
    zbot.services.web_url = None
    await zalo.send_text(HOA, "/me")
    await _poll_once(zbot)
    assert "Sở Y tế" in zalo.texts_to(HOA)[-1]
    await zalo.send_text(HOA, "hạn chót")
    await _poll_once(zbot)
    assert "<" not in zalo.texts_to(HOA)[-1]
    assert zalo.texts_to(HOA)[-1] != "Bot chưa hiểu tin nhắn này. Gõ tro giup để xem các lệnh."
    await zalo.send_text(HOA, "xin chào")
    await _poll_once(zbot)
    assert zalo.texts_to(HOA)[-1] == ("Bot chưa hiểu tin nhắn này. Gõ tro giup để xem các lệnh.")


async def test_duplicates_images_and_groups(zalo: FakeZalo, zbot: ZaloBot) -> None:
    update = await zalo.send_text(HOA, "/start")
    await _poll_once(zbot)
    await zalo.deliver_again(update)
    again = await zbot.client.get_update(1)
    assert again is not None
    assert await zbot.handle(again) is False  # the same message id: ignored
    assert len(zalo.texts_to(HOA)) == 1
    assert zalo.texts_to(HOA)[0].startswith("Xin chào Lê Thị Hoa!")

    await zalo.deliver(zalo.update(HOA, "", event="message.image.received"))
    await _poll_once(zbot)
    assert zalo.texts_to(HOA)[-1] == (
        "Bot trên Zalo chỉ đọc tin nhắn văn bản. Gõ tro giup để xem các lệnh."
    )
    group = zalo.update(HOA, "/standings")
    group["message"]["chat"] = {"id": "g1", "chat_type": "GROUP"}
    await zalo.deliver(group)
    await _poll_once(zbot)
    assert [s for s in zalo.sent if s.chat_id == "g1"] == []


async def test_the_webhook_checks_its_secret_and_ignores_duplicates(
    zalo: FakeZalo, zbot: ZaloBot, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "webhook-secret-0123456789"
    runner = web.AppRunner(zbot.webhook_app(secret))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/zalo"
    try:
        await zbot.client.set_webhook(url, secret)
        zalo.wrap_webhook = True
        update = await zalo.send_text(HOA, "/start")
        await zalo.deliver_again(update)
        assert zalo.webhook_replies == [200, 200]
        assert len(zalo.texts_to(HOA)) == 1  # the duplicate changed nothing
        async with aiohttp.ClientSession() as http:
            async with http.post(
                url, json=zalo.update(HOA, "/start"), headers={"X-Bot-Api-Secret-Token": "bad"}
            ) as reply:
                assert reply.status == 401
            async with http.post(url, json=zalo.update(HOA, "/start")) as reply:
                assert reply.status == 401
            headers = {"X-Bot-Api-Secret-Token": secret}
            async with http.post(url, data=b"{not json", headers=headers) as reply:
                assert reply.status == 400
            async with http.post(url, json={"hello": 1}, headers=headers) as reply:
                assert reply.status == 400
            for body in MALFORMED_UPDATES:  # each 400, none a 500 with a traceback
                async with http.post(url, data=body, headers=headers) as reply:
                    assert reply.status == 400, body[:40]
            unknown_charset = {**headers, "Content-Type": "application/json; charset=x-no"}
            async with http.post(
                url, json=zalo.update(HOA, "/start"), headers=unknown_charset
            ) as reply:
                assert reply.status == 400
        await asyncio.sleep(0)
        assert len(zalo.texts_to(HOA)) == 1
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

        # The answer cannot be sent (Zalo refuses it): the update was received and is not
        # handled again, so the webhook says 200 — a 500 would only make Zalo retry it.
        zalo.fail_next("sendMessage", 400, description="Bad Request: chat not found")
        update = await zalo.send_text(HOA, "tro giup")
        assert zalo.webhook_replies[-1] == 200
        assert len(zalo.texts_to(HOA)) == 1
        assert "Zalo update %s not answered: %s" in [r.msg for r in caplog.records]
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    finally:
        await runner.cleanup()


async def test_notices_reach_zalo_members_in_plain_text(
    tg: Harness, services: Services, zalo: FakeZalo, zbot: ZaloBot
) -> None:
    """The outbox delivers to each member on the platform they joined through: a colleague
    joining on Telegram, and an announcement, reach the Zalo representative as plain text."""
    channels = Channels(
        {Platform.TELEGRAM: TelegramNotifier(tg.bot), Platform.ZALO: ZaloNotifier(zbot.client)}
    )
    sender = Sender(services.db, channels, NoRateLimit(), services.clock, services.renderer)
    tg.sender = sender
    await tg.admin_setup(units=UNITS)
    await zalo.send_text(HOA, f"/start {await tg.invite_code('1')}")
    await _poll_once(zbot)
    await join(tg, AN, "1")
    assert zalo.texts_to(HOA)[-1] == (
        "👤 Trần Văn An vừa tham gia làm đại diện của Sở Y tế (Khối thi đua Văn hóa - Xã hội)."
    )
    typed = "Họp trực tuyến lúc 14:00 <b>thứ Sáu</b> & chuẩn bị số liệu."
    await tg.say(SECRETARY, f"/announce tất cả; {typed}")
    assert typed in zalo.texts_to(HOA)[-1]  # as typed: no markup, nothing escaped
