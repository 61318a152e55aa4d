"""The conference hall's screen: its link's life (issued and revoked in chat, the end of the
conference day, unknown links), what it shows before and after a count (never a partial
result; a secret ballot's counts only; no person's name, no receipt), the venue check-in code,
and the event stream a cast made in chat reaches."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.venue import venue_code, venue_key
from bot.fakes.clock import FakeClock
from bot.services import hall
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from handlers.web.app import mount_web
from handlers.web.base import WebConfig
from storage.broadcast_workers import PostgresBroadcast, RedisBroadcast
from storage.tables import ConferenceRow
from tests.conftest import PG_URL, ensure_worker_database
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    CUONG,
    DUNG,
    GIANG,
    actor_of,
    audit_trail,
    ballot_ids,
    bloc_by_code,
    cast,
    conference_setup,
    receipt_of,
    voted,
)
from tests.web.support import WEB_URL, Client

_LINK = re.compile(r"http://127\.0\.0\.1/web(/screen/[A-Za-z0-9_-]{43})")
GONE = "Đường dẫn màn hình này không còn hiệu lực."
# Persons of the conference (chair, secretary, counting board) and of the units.
PERSONS = ("Nguyễn Văn Thành", "Lò Thị Hương", "Quàng Thị Mai", "Trần Văn An", "Nguyễn Thị Lan")


async def screen_link(tg: Harness) -> str:
    """/conference screen by the secretariat: the path of the link the reply carries."""
    replies = await tg.say(SECRETARY, "/conference screen")
    found = _LINK.search(replies[-1].text)
    assert found is not None, replies[-1].text
    assert "hiệu lực đến hết ngày hội nghị (00:00 21/12/2024)" in replies[-1].text
    return f"/web{found.group(1)}"


async def shown(client: Client, path: str) -> tuple[int, str]:
    page = await client.get(path)
    return page.status, await page.text()


def no_persons(html: str) -> None:
    for name in PERSONS:
        assert name not in html, name


async def test_the_link_shows_the_conference_until_revoked(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(AN, CUONG), defaults=False)
    path = await screen_link(tg)
    page = await client.get(path)  # no sign-in, no cookie
    assert page.status == 200
    assert "Set-Cookie" not in page.headers
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    html = await page.text()
    assert "<h1>Hội nghị tổng kết năm 2024</h1>" in html
    assert "Khối thi đua Văn hóa - Xã hội" in html
    assert "08:00 thứ Sáu, 20/12/2024 · Hội trường Sở Y tế" in html
    assert "<span data-present>2</span>/4" in html
    assert "Chưa đủ 2/3: còn thiếu 1 đơn vị" in html
    assert "Chưa có cuộc biểu quyết nào đang mở." in html
    no_persons(html)
    # The same screen, opened twice (a second projector): both links work.
    second = await screen_link(tg)
    assert (await shown(client, second))[0] == 200

    replies = await tg.say(SECRETARY, "/conference screen off")
    assert replies[-1].text.startswith("✅ Đã thu hồi 2 đường dẫn màn hình hội trường")
    for revoked in (path, second, f"{path}/live"):
        status, html = await shown(client, revoked)
        assert (status, GONE in html, "Hội nghị" in html) == (410, True, False)
    again = await tg.say(SECRETARY, "/conference screen off")
    assert again[-1].text.startswith("Không có đường dẫn màn hình hội trường nào đang hiệu lực.")
    trail = [(a, d) for a, d in await audit_trail(services) if a.startswith("screen.")]
    assert [a for a, _ in trail] == ["screen.issued", "screen.issued", "screen.revoked"]
    assert trail[0][1]["expires_at"] == "2024-12-20T17:00:00+00:00"
    assert trail[2][1]["links"] == 2


async def test_unknown_expired_and_refused_links(
    client: Client, tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg, checked_in=(), defaults=False)
    for unknown in ("/web/screen/" + "A" * 43, "/web/screen/short", "/web/screen/x/live"):
        status, html = await shown(client, unknown)
        assert (status, GONE in html) == (404, True)
    # A representative cannot ask for one.
    refused = await tg.say(AN, "/conference screen")
    assert refused[-1].text == "Chỉ thường trực khối mới dùng được lệnh này."
    path = await screen_link(tg)
    # Till the end of the conference day in Hà Nội (17:00 UTC), not a second longer.
    clock.set(clock.now().replace(month=12, day=20, hour=16, minute=59))
    assert (await shown(client, path))[0] == 200
    clock.advance(timedelta(minutes=1))
    status, html = await shown(client, path)
    assert (status, GONE in html, "Hội trường" in html) == (410, True, False)
    # The day is over: no new link either.
    late = await hall.issue_screen(services, await actor_of(services, SECRETARY))
    assert late == Rejected(Reason.CONFERENCE_OVER)


async def test_no_partial_result_then_the_count_as_stored(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    path = await screen_link(tg)
    report, gov = (await ballot_ids(services))[:2]
    await tg.say(SECRETARY, "/ballot open 1; 20/12/2024 09:00")
    await cast(tg, AN, report, 0)
    await cast(tg, CUONG, report, 0)
    status, html = await shown(client, path)
    assert status == 200
    assert "1. Thông qua dự thảo báo cáo tổng kết" in html
    assert "Thông qua khi đạt &gt;50% tổng số đơn vị thành viên; biểu quyết công khai" in html
    assert '<progress max="4" value="2">50%</progress>' in html
    assert "2/4 đơn vị đã biểu quyết" in html
    assert "Kết quả công bố khi kiểm phiếu xong." in html
    # Time left till 09:00 Hà Nội on 20/12 from the clock's 08:00 on 25/11, in hours.
    assert "data-clock>601:00:00</span>" in html
    assert "Đồng ý" not in html  # no partial result
    assert "Kết quả:" not in html
    assert "Đủ 2/3: đủ điều kiện biểu quyết" in html

    await cast(tg, DUNG, report, 1)
    await tg.say(SECRETARY, "/ballot close 1")
    status, html = await shown(client, f"{path}/live")
    assert status == 200
    part = html.split('<section class="result"')[1]
    assert "Kết quả: 1. Thông qua dự thảo báo cáo tổng kết" in part
    assert "Phiếu phát ra: 4 · thu về: 3 · hợp lệ: 3 · không hợp lệ: 0" in part
    rows = re.findall(
        r"<tr class=\"(pass)?\"><td>([^<]+)</td><td class=\"num\">(\d+)</td>"
        r"<td class=\"num\">([\d,]+)</td>",
        part,
    )
    assert rows == [
        ("", "Đồng ý", "2", "50,0"),
        ("", "Không đồng ý", "1", "25,0"),
        ("", "Ý kiến khác", "0", "0,0"),
    ]
    assert "Kết quả: không thông qua." in part
    assert "<progress" not in html

    # A secret ballot: turnout only while open, counts only after; never a receipt.
    await tg.say(SECRETARY, "/ballot open 2")
    receipt = receipt_of((await cast(tg, AN, gov, 1))[0])
    for user in (CUONG, DUNG):
        await cast(tg, user, gov, 0)
    html = (await shown(client, path))[1]
    assert "3/4 đơn vị đã bỏ phiếu" in html
    assert "Cờ thi đua của Chính phủ" in html
    assert "bỏ phiếu kín" in html
    assert receipt not in html
    await cast(tg, GIANG, gov, 0)
    await tg.say(SECRETARY, "/ballot close 2")
    html = (await shown(client, path))[1]
    part = html.split('<section class="result"')[1]
    assert (
        '<tr class="pass"><td>Sở Y tế</td><td class="num">3</td><td class="num">75,0</td>' in part
    )
    assert "Kết quả: đề nghị Sở Y tế." in part
    assert receipt not in html
    no_persons(html)


async def test_a_tie_announces_the_run_off_which_then_ranks_without_a_threshold(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    path = await screen_link(tg)
    leader = (await ballot_ids(services))[5]
    await tg.say(SECRETARY, "/ballot open 6")
    for user, choice in ((AN, 1), (CUONG, 0), (DUNG, 0), (GIANG, 1)):
        await voted(services, user, leader, choice)
    closed = await tg.say(SECRETARY, "/ballot close 6")
    assert "bỏ phiếu lại số 8" in closed[0].text
    # The tie's count, then the run-off announced under it.
    part = (await shown(client, f"{path}/live"))[1].split('<section class="result"')[1]
    assert "Kết quả: 6. Bầu Trưởng khối năm sau</h2>" in part
    assert '<td>Sở Y tế</td><td class="num">2</td>' in part
    assert '<td>Sở Giáo dục và Đào tạo</td><td class="num">2</td>' in part
    assert '<p class="runoff">Sẽ bỏ phiếu lại: cuộc biểu quyết số 8.</p>' in part
    assert part.index("Kết quả: không có đơn vị nào đạt ngưỡng.") < part.index("Sẽ bỏ phiếu")

    # The run-off open: its own title and rule, the tied units only, the line gone.
    runoff = (await ballot_ids(services))[7]
    await tg.say(SECRETARY, "/ballot open 8")
    html = (await shown(client, path))[1]
    assert "<h2>8. Bầu Trưởng khối năm sau — bỏ phiếu lại</h2>" in html
    assert "Bỏ phiếu lại giữa các đơn vị hòa phiếu, đơn vị nhiều phiếu hơn được chọn" in html
    assert "Sẽ bỏ phiếu lại" not in html
    for user, choice in ((AN, 1), (CUONG, 0), (DUNG, 0), (GIANG, 0)):
        await voted(services, user, runoff, choice)
    await tg.say(SECRETARY, "/ballot close 8")
    part = (await shown(client, path))[1].split('<section class="result"')[1]
    rows = re.findall(r'<tr class="(pass)?"><td>([^<]+)</td><td class="num">(\d+)</td>', part)
    assert rows == [("", "Sở Y tế", "3"), ("", "Sở Giáo dục và Đào tạo", "1")]
    # Votes only rank in a run-off: no threshold stated, no tick, no further run-off.
    assert '<p class="base">Tỷ lệ tính trên 4 (tổng số đơn vị thành viên)</p>' in part
    assert "ngưỡng" not in part
    assert "✔" not in part
    assert "Kết quả: Sở Y tế trúng cử." in part
    assert "Sẽ bỏ phiếu lại" not in part


async def test_the_venue_code_is_shown_when_check_in_needs_it(
    client: Client, tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg, checked_in=(), defaults=False)
    path = await screen_link(tg)
    clock.set(clock.now().replace(second=20))
    html = (await shown(client, path))[1]
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, 2024)
    assert conference is not None
    code = venue_code(venue_key(services.ballot_secret), conference.id, clock.now())
    found = re.search(r'data-code-seconds="(\d+)"', html)
    assert found is not None
    assert found.group(1) == "40"
    assert f"{code[:3]} {code[3:]}" in html
    # Beside it, the QR that opens the check-in page on a phone.
    assert 'class="segno"' in html
    assert "Quét để mở trang điểm danh" in html
    async with services.db.uow() as uow:
        await uow.session.exec(update(ConferenceRow).values(venue_checkin=False))
        await uow.commit()
    html = (await shown(client, path))[1]
    assert "Mã điểm danh" not in html
    assert f"{code[:3]} {code[3:]}" not in html


async def _event(stream: ClientResponse) -> str:
    return (await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 5)).decode()


async def test_the_event_stream_tells_of_a_cast_made_in_chat(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    path = await screen_link(tg)
    report = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    stream = await client.get(f"{path}/events")
    assert stream.status == 200
    assert stream.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert stream.headers["Cache-Control"] == "no-store"
    assert await _event(stream) == "retry: 3000\n\n"
    await cast(tg, AN, report, 1)
    event = await _event(stream)
    name, data = event.strip().split("\n")
    assert name == "event: update"
    told = json.loads(data.removeprefix("data: "))
    assert re.fullmatch("[0-9a-f]{16}", told.pop("v"))  # the event's stamp
    assert told == {"kind": "cast", "ballot": report}
    await tg.say(CUONG, "/checkin")  # already present: nothing changed, nothing told
    await tg.say(SECRETARY, "/conference screen off")
    assert await _event(stream) == "event: gone\ndata: {}\n\n"
    stream.close()
    # A revoked link gets no stream.
    assert (await client.get(f"{path}/events")).status == 410


async def test_a_quiet_stream_keeps_alive_and_ends_when_the_link_expires(
    client: Client,
    tg: Harness,
    web_config: WebConfig,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await conference_setup(tg, checked_in=(), defaults=False)
    path = await screen_link(tg)
    web_config.keep_alive = 0.2
    # A projector that goes away is no fault: nothing is logged when its stream breaks.
    left = await client.get(f"{path}/events")
    assert await _event(left) == "retry: 3000\n\n"
    left.close()
    await asyncio.sleep(0.5)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    stream = await client.get(f"{path}/events")
    assert await _event(stream) == "retry: 3000\n\n"
    assert await _event(stream) == ": keep-alive\n\n"
    clock.set(clock.now().replace(month=12, day=20, hour=17, minute=0))
    assert await _event(stream) == "event: gone\ndata: {}\n\n"
    stream.close()


@pytest.fixture(params=["redis", "postgresql"])
def shared_by(request: pytest.FixtureRequest) -> str | None:
    """How two workers share events: the Redis URL (flushed), or None for PostgreSQL."""
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        return url
    return None


async def test_a_cast_on_one_worker_reaches_a_screen_served_by_another(
    services: Services, tg: Harness, web_config: WebConfig, shared_by: str | None
) -> None:
    """Worker A takes the chat's update; worker B serves the screen's stream: each has its
    own adapter on the real Redis or PostgreSQL (a NOTIFY commits on its own connection)."""
    engines = [] if shared_by else [create_async_engine(PG_URL), create_async_engine(PG_URL)]
    if shared_by:
        a: RedisBroadcast | PostgresBroadcast = RedisBroadcast(shared_by)
        b: RedisBroadcast | PostgresBroadcast = RedisBroadcast(shared_by)
    else:
        await ensure_worker_database()
        a, b = PostgresBroadcast(engines[0]), PostgresBroadcast(engines[1])
    services.broadcast = a
    services.web_url = WEB_URL
    root = web.Application()
    mount_web(root, replace(services, broadcast=b), web_config)
    try:
        async with TestClient(TestServer(root)) as worker_b:
            await conference_setup(tg)
            path = await screen_link(tg)
            report = (await ballot_ids(services))[0]
            await tg.say(SECRETARY, "/ballot open 1")
            stream = await worker_b.get(f"{path}/events")
            assert await _event(stream) == "retry: 3000\n\n"
            await cast(tg, AN, report, 0)
            told = re.fullmatch(
                r'event: update\ndata: \{"kind":"cast","ballot":(\d+),"v":"([0-9a-f]{16})"\}\n\n',
                await _event(stream),
            )
            assert told is not None
            assert int(told.group(1)) == report
            html = await (await worker_b.get(f"{path}/live?v={told.group(2)}")).text()
            assert "1/4 đơn vị đã biểu quyết" in html
            stream.close()
    finally:
        await a.close()
        await b.close()
        for engine in engines:
            await engine.dispose()


async def test_a_hundred_screens_share_one_rendering_of_each_change(
    client: Client, tg: Harness, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Screens fetching their part with an event's stamp get one rendering between them; the
    next event's stamp shows the next change (never the part shared for the one before); a
    fetch without a stamp, or with one that is not a stamp, is rendered for itself."""
    await conference_setup(tg)
    path = await screen_link(tg)
    report = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    stream = await client.get(f"{path}/events")
    assert await _event(stream) == "retry: 3000\n\n"
    renders = 0
    view = hall.screen_view

    async def counted(services: Services, token: str) -> object:
        nonlocal renders
        renders += 1
        return await view(services, token)

    monkeypatch.setattr(hall, "screen_view", counted)
    for n, user in enumerate((AN, CUONG), start=1):
        await cast(tg, user, report, 0)
        stamp = json.loads((await _event(stream)).split("data: ")[1])["v"]
        renders = 0
        pages = await asyncio.gather(
            *(shown(client, f"{path}/live?v={stamp}") for _ in range(100))
        )
        assert renders == 1
        assert {status for status, _ in pages} == {200}
        assert all(f"{n}/4 đơn vị đã biểu quyết" in html for _, html in pages)
    renders = 0
    for query in ("", "?v=", "?v=NOT-A-STAMP", "?v=" + "a" * 33):
        status, html = await shown(client, f"{path}/live{query}")
        assert status == 200
        assert "2/4 đơn vị đã biểu quyết" in html
    assert renders == 4
    # A revoked link: its stamped part is not served from what was shared before.
    await tg.say(SECRETARY, "/conference screen off")
    stamp = json.loads((await _event(stream)).split("data: ")[1]).get("v", "0")
    assert (await shown(client, f"{path}/live?v={stamp}"))[0] == 410
    stream.close()
