"""Check-in at the conference and the standings on the web: the same services as /checkin and
/standings in chat; observers read both and cannot check in; no partial result while voting."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.fakes.clock import FakeClock
from bot.services.app import Services
from storage.tables import AttendanceRow
from tests.handlers.conftest import SECRETARY, Harness, person
from tests.handlers.support import (
    AN,
    BINH,
    CUONG,
    audit_trail,
    ballot_ids,
    cast,
    conference_setup,
    hall_code,
    identity,
    join,
    report_setup,
    submitted,
    unit_ids,
)
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in

OBSERVER = person(2301, "Đinh", "Thị Hoa")


async def attendance(services: Services) -> list[tuple[int, int]]:
    async with services.db.uow() as uow:
        rows = (await uow.session.exec(select(AttendanceRow))).all()
        return sorted((r.unit_id, r.identity_id) for r in rows)


async def test_a_representative_checks_the_unit_in(
    client: Client, tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg, checked_in=(CUONG,), defaults=False)
    await sign_in(client, tg, AN)
    page = await client.get("/web/checkin")
    assert page.status == 200
    html = await page.text()
    assert "Hội nghị tổng kết năm 2024" in html
    assert "08:00 thứ Sáu, 20/12/2024" in html
    assert "Hội trường Sở Y tế" in html
    assert "Có mặt: 1/4 đơn vị — còn thiếu 2 đơn vị" in html
    assert "Điểm danh cho đơn vị: <strong>Sở Y tế</strong>" in html
    # At the venue: the hall screen's code, in a box that brings up the phone's digit pad.
    assert 'name="code" inputmode="numeric" autocomplete="one-time-code"' in html
    assert "Mã đang hiện trên màn hình hội trường; mã đổi mỗi phút." in html
    before = await attendance(services)
    csrf = csrf_of(html)

    for typed, problem in (
        (
            "",
            "cần mã 6 chữ số đang hiện trên màn hình hội trường (mã đổi mỗi phút).\n"
            "Nhập mã vào ô dưới rồi bấm «Điểm danh».",
        ),
        ("12345", "Mã điểm danh không đúng hoặc đã hết hạn."),
    ):
        refused = await client.post("/web/checkin", data={"csrf": csrf, "code": typed})
        html = await refused.text()
        assert problem in html
        # Said beside the box, the form still there to try again; the chat's command not named.
        assert 'aria-invalid="true"' in html
        assert 'action="/web/checkin"' in html
        assert "/checkin 123456" not in html
    assert await attendance(services) == before

    code = await hall_code(services)
    landing = await redirected(client, "/web/checkin", {"csrf": csrf, "code": code})
    assert landing == "/web/checkin?done=first"
    html = await page_text(client, landing)
    assert "✅ Đã điểm danh: <b>Sở Y tế</b>. Có mặt 2/4 đơn vị." in html
    assert 'action="/web/checkin"' not in html
    syt, an = (await unit_ids(services))["SYT"], (await identity(services, AN)).id
    assert await attendance(services) == sorted([*before, (syt, an)])
    trail = await audit_trail(services)
    # A reload after the hall's code has changed: the presence as stored, said again; no code
    # is sent again (a stale one would be refused, and counted toward the lockout).
    clock.advance(timedelta(minutes=2))
    assert "✅ Đã điểm danh: <b>Sở Y tế</b>. Có mặt 2/4 đơn vị." in await page_text(
        client, landing
    )
    assert await attendance(services) == sorted([*before, (syt, an)])
    assert await audit_trail(services) == trail
    # Opened again: already present, no button; a second press says so (as chat does).
    html = await (await client.get("/web/checkin")).text()
    assert "✅ Sở Y tế đã điểm danh." in html
    assert "🙋 Điểm danh</button>" not in html
    again = await redirected(client, "/web/checkin", {"csrf": csrf_of(html)})
    assert again == "/web/checkin?done=before"
    assert "Đơn vị đã điểm danh trước đó: <b>Sở Y tế</b>" in await page_text(client, again)
    assert len(await attendance(services)) == 2
    replies = await tg.say(BINH, "/checkin")
    assert replies[-1].text.startswith("✅ Đơn vị đã điểm danh trước đó: <b>Sở Y tế</b>")


async def test_wrong_codes_on_the_page_count_toward_the_chat_s_lockout(
    client: Client, tg: Harness, services: Services
) -> None:
    """Guessing the hall's code is one budget, whichever way it is typed: wrong codes on the
    page and in chat add up to the same lockout as invite codes (five in ten minutes)."""
    await conference_setup(tg, checked_in=(), defaults=False)
    await sign_in(client, tg, AN)
    code = await hall_code(services)
    wrongs = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 6)]
    csrf = csrf_of(await page_text(client, "/web/checkin"))
    for wrong in wrongs[:3]:
        html = await (await client.post("/web/checkin", data={"csrf": csrf, "code": wrong})).text()
        assert "Mã điểm danh không đúng hoặc đã hết hạn." in html
    for wrong in wrongs[3:]:
        replies = await tg.say(AN, f"/checkin {wrong}")
        assert replies[-1].text.startswith("Mã điểm danh không đúng hoặc đã hết hạn."), replies
    # The right code now: refused on the page as in chat, beside the box; nobody present.
    locked = "Bạn đã nhập sai mã quá nhiều lần. Vui lòng thử lại sau 10 phút."
    refused = await client.post("/web/checkin", data={"csrf": csrf, "code": code})
    html = await refused.text()
    assert locked in html
    assert 'aria-invalid="true"' in html
    assert (await tg.say(AN, f"/checkin {code}"))[-1].text == locked
    assert await attendance(services) == []


async def test_no_conference_is_refused_in_the_chat_s_words(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    html = await (await client.get("/web/checkin")).text()
    assert "Khối chưa thiết lập hội nghị năm nay." in html
    done = await client.post("/web/checkin", data={"csrf": csrf_of(html)})
    assert "Khối chưa thiết lập hội nghị năm nay." in await done.text()
    assert await attendance(services) == []


async def test_an_observer_sees_the_conference_but_cannot_check_in(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(), defaults=False)
    await join(tg, OBSERVER, "observer")
    await sign_in(client, tg, OBSERVER)
    html = await (await client.get("/web/checkin")).text()
    assert "Hội trường Sở Y tế" in html
    assert "Có mặt: 0/4 đơn vị" in html
    assert 'action="/web/checkin"' not in html
    forged = await client.post("/web/checkin", data={"csrf": csrf_of(html)})
    assert "Bạn không đại diện cho đơn vị nào trong khối." in await forged.text()
    assert await attendance(services) == []


async def test_checking_in_without_the_csrf_token_is_refused(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(), defaults=False)
    await sign_in(client, tg, AN)
    assert (await client.post("/web/checkin", data={})).status == 403
    assert (await client.post("/web/checkin", data={"csrf": "forged"})).status == 403
    assert await attendance(services) == []


async def test_standings_highlight_the_unit_and_draw_the_chart(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await submitted(services, AN)
    await sign_in(client, tg, AN)
    page = await client.get("/web/standings")
    assert page.status == 200
    html = await page.text()
    assert "Báo cáo tổng kết năm 2024 (hạn 17:00 15/12/2024)" in html
    mine = html.split('<tr class="mine" aria-current="true">')[1].split("</tr>")[0]
    assert '<td>Sở Y tế<div class="hint">đã nộp · tự chấm</div></td>' in mine
    assert '<td class="num">102</td>' in mine
    assert html.count('class="mine"') == 1
    other = html.split("<td>Sở Giáo dục và Đào tạo")[1].split("</tr>")[0]
    assert '<div class="hint">chưa nộp</div>' in other
    assert '<img class="chart" src="/web/standings.png" alt="Biểu đồ bảng xếp hạng' in html
    chart = await client.get("/web/standings.png")
    assert chart.status == 200
    assert chart.content_type == "image/png"
    assert chart.headers["Cache-Control"] == "no-store"
    assert (await chart.read()).startswith(b"\x89PNG\r\n\x1a\n")


async def test_an_observer_sees_the_standings_without_a_unit_of_their_own(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg, observer=CUONG)
    await submitted(services, AN)
    await sign_in(client, tg, CUONG)
    html = await (await client.get("/web/standings")).text()
    assert "<td>Sở Y tế<div" in html
    assert 'class="mine"' not in html
    assert (await client.get("/web/standings.png")).content_type == "image/png"


async def test_standings_during_a_ballot_show_turnout_only(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    ballot = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    await cast(tg, AN, ballot, 0)
    await sign_in(client, tg, CUONG)
    html = await (await client.get("/web/standings")).text()
    assert "Đang bỏ phiếu" in html
    assert "1. Thông qua dự thảo báo cáo tổng kết: 1/4 đơn vị đã bỏ phiếu" in html
    assert "Kết quả công bố khi kiểm phiếu xong." in html
    for partial in ("Đồng ý", "Không đồng ý", "Phiếu trắng"):
        assert partial not in html


async def test_the_pages_in_english(client: Client, tg: Harness) -> None:
    await conference_setup(tg, checked_in=(), defaults=False)
    await tg.say(SECRETARY, "/covenant set 17:00 20/12/2024; Các đơn vị cam kết thi đua.")
    await sign_in(client, tg, AN)
    home = await (await client.get("/web/")).text()
    await client.post("/web/lang", data={"csrf": csrf_of(home), "lang": "en", "back": "/"})
    home = await (await client.get("/web/")).text()
    assert "Signing the 2025 emulation covenant" in home
    assert "Not done by your unit yet" in home
    covenant = await (await client.get("/web/covenant")).text()
    assert "Emulation covenant for 2025" in covenant
    assert "Sở Y tế has not signed." in covenant
    assert "✍️ Sign the covenant" in covenant
    checkin = await (await client.get("/web/checkin")).text()
    assert "Present: 0/4 units" in checkin
    assert "🙋 Check in" in checkin
    assert "Check-in code (6 digits)" in checkin
    code = await hall_code(tg.services)
    done = await client.post("/web/checkin", data={"csrf": csrf_of(checkin), "code": code})
    assert "✅ Checked in: <b>Sở Y tế</b>. Present 1/4 units." in await done.text()
    standings = await (await client.get("/web/standings")).text()
    assert "Standings" in standings
    assert "No report period yet" in standings
