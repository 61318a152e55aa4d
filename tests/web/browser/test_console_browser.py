"""The secretariat's console in Chromium on a phone: the conference through its form (date and
time pickers, lists one per line), the ballots created, one opened after check-ins at the
venue, closed behind its confirm — no page wider than the phone, no script or CSP error."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.handlers.conftest import SECRETARY
from tests.handlers.support import AN, CUONG, DUNG, VOTE_UNITS, ballot_ids, cast, hall_code, join
from tests.web.browser.conftest import Live


async def _fits(phone: Page) -> None:
    """Nothing on the page is wider than the phone (no sideways scrolling)."""
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{phone.url} is {width} px wide"


async def test_a_secretary_runs_the_conference_from_a_phone(live: Live, phone: Page) -> None:
    tg = live.tg
    await tg.admin_setup(units=VOTE_UNITS)
    for user, unit in ((AN, "1"), (CUONG, "2"), (DUNG, "3")):
        await join(tg, user, unit)
    reply = await tg.say(SECRETARY, "/web")
    link = re.search(r"http://\S+/signin/[A-Za-z0-9_-]{43}", reply[-1].text)
    assert link is not None
    await phone.goto(link.group(0))
    async with phone.expect_navigation():
        await phone.get_by_role("button", name="Đăng nhập").tap()
    base = link.group(0).split("/signin/")[0]

    await phone.get_by_role("link", name="Thường trực").tap()
    await expect(phone.locator("h1")).to_have_text("Bảng điều hành của thường trực")
    await _fits(phone)
    await phone.get_by_role("link", name="Sửa thông tin hội nghị").first.tap()
    await phone.get_by_label("Ngày", exact=True).fill("2024-12-20")
    await phone.get_by_label("Giờ", exact=True).fill("08:00")
    await phone.get_by_label("Địa điểm", exact=True).fill("Hội trường Sở Y tế")
    await phone.get_by_label("Đơn vị chủ trì").select_option("SYT")
    await phone.get_by_label("Chủ tọa: họ tên").fill("Nguyễn Văn Thành")
    await phone.get_by_label("Chức vụ của chủ tọa").fill("Giám đốc Sở")
    await phone.get_by_label("Ban kiểm phiếu", exact=True).fill("Quàng Thị Mai\nTrần Đức Long")
    await _fits(phone)
    await phone.get_by_role("button", name="Lưu thông tin hội nghị").tap()
    await expect(phone.get_by_role("main")).to_contain_text("Đã lưu thông tin hội nghị.")
    await expect(phone.get_by_label("Ban kiểm phiếu", exact=True)).to_have_value(
        "Quàng Thị Mai\nTrần Đức Long"
    )

    code = await hall_code(live.services)
    for user in (AN, CUONG, DUNG):
        await tg.say(user, f"/checkin {code}")
    await phone.goto(f"{base}/console/ballots")
    await phone.get_by_role("button", name=re.compile("Tạo đủ các nội dung")).tap()
    await expect(phone.locator("#ballot-7")).to_be_visible()
    await _fits(phone)
    await phone.locator("#ballot-1").get_by_role("button", name="Mở biểu quyết").tap()
    await expect(phone.get_by_role("status")).to_contain_text("Đã mở biểu quyết số 1")

    await cast(tg, AN, (await ballot_ids(live.services))[0], 0)
    await phone.reload()
    await expect(phone.locator("#ballot-1")).to_contain_text("1/4 đơn vị đã bỏ phiếu")
    await phone.locator("#ballot-1").get_by_role("link", name="Kết thúc và kiểm phiếu").tap()
    await expect(phone.get_by_role("main")).to_contain_text("Sau khi kết thúc")
    await _fits(phone)
    await phone.get_by_role("button", name="Kết thúc và kiểm phiếu ngay").tap()
    await expect(phone.get_by_role("status")).to_contain_text("Kết quả")
    await expect(phone.locator("#ballot-1")).to_contain_text("Tải biên bản kiểm phiếu")
    assert live.console == []
