"""In Chromium at a phone's width, the pages the acceptance walk does not reach: an open
ballot voted and re-cast (the colleague told), check-in, self-scores saved as they are typed
(the page's script), standings with the chart, the quota counter, and the page in English."""

from __future__ import annotations

import re

from aiogram.methods import SendMessage
from playwright.async_api import Page, expect

from tests.handlers.conftest import SECRETARY
from tests.handlers.support import (
    AN,
    BINH,
    CUONG,
    DUNG,
    GIANG,
    OPEN_PERIOD,
    SGD,
    STT,
    TABLE_EXAMPLE,
    conference_setup,
    hall_code,
)
from tests.web.browser.conftest import Live


async def _signed_in(live: Live, phone: Page) -> str:
    reply = await live.tg.say(AN, "/web")
    link = re.search(r"http://\S+/signin/[A-Za-z0-9_-]{43}", reply[-1].text)
    assert link is not None
    await phone.goto(link.group(0))
    async with phone.expect_navigation():
        await phone.get_by_role("button", name="Đăng nhập").tap()
    return link.group(0).split("/signin/")[0]


def _told(live: Live, since: int) -> list[str]:
    return [
        str(m.text)
        for m in live.tg.bot.mock_session.requests[since:]
        if isinstance(m, SendMessage) and str(m.chat_id) == str(BINH.id)
    ]


async def test_open_ballot_checkin_autosave_standings_and_english(live: Live, phone: Page) -> None:
    tg = live.tg
    await conference_setup(tg, checked_in=())
    await tg.send_file(SECRETARY, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)
    base = await _signed_in(live, phone)

    # Check-in at the conference, from its page.
    # Check-in at the venue: the code on the hall screen, typed in its labelled box.
    await phone.goto(f"{base}/checkin")
    await phone.get_by_role("button", name="🙋 Điểm danh").tap()  # empty: the browser says so
    await expect(phone.get_by_label("Mã điểm danh (6 chữ số)")).to_be_focused()
    code = await hall_code(tg.services)
    await phone.get_by_label("Mã điểm danh (6 chữ số)").fill(code)
    await phone.get_by_role("button", name="🙋 Điểm danh").tap()
    await expect(phone.locator("main")).to_contain_text("Đã điểm danh")
    for user in (CUONG, DUNG, GIANG):  # the quorum, for the ballots to open
        await tg.say(user, f"/checkin {code}")
    await tg.say(SECRETARY, "/ballot open 1")

    # The open ballot from the list: a choice, its confirm, then a change of mind.
    await phone.goto(f"{base}/ballots")
    await phone.get_by_role("link", name=re.compile("Thông qua dự thảo báo cáo")).first.tap()
    await phone.get_by_label("Đồng ý", exact=True).check()
    await phone.get_by_role("button", name="Xem lại và xác nhận").tap()
    await phone.get_by_role("button", name="✅ Xác nhận").tap()
    await expect(phone.locator("main")).to_contain_text("✅ Đã ghi nhận biểu quyết của Sở Y tế")
    since = len(tg.bot.mock_session.requests)
    await phone.goto(f"{base}/ballots")
    await phone.get_by_role("link", name=re.compile("Thông qua dự thảo báo cáo")).first.tap()
    await expect(phone.locator("main")).to_contain_text("Đơn vị đã biểu quyết: Đồng ý")
    await phone.get_by_label("Không đồng ý", exact=True).check()
    await phone.get_by_role("button", name="Xem lại và xác nhận").tap()
    await phone.get_by_role("button", name="✅ Xác nhận").tap()
    await expect(phone.locator("main")).to_contain_text("(thay cho lựa chọn trước)")
    told = _told(live, since)
    assert len(told) == 1
    assert "Không đồng ý" in told[0]

    # The quota counter of a multi-choice ballot follows the ticks (the page's script).
    await tg.say(SECRETARY, "/ballot open 5")
    await phone.goto(f"{base}/ballots")
    await phone.get_by_role("link", name=re.compile("Chủ tịch UBND tỉnh")).first.tap()
    counter = phone.locator("[data-counter]")
    await expect(counter).to_contain_text("0 / 3")
    await phone.get_by_label(SGD, exact=True).check()
    await phone.get_by_label(STT, exact=True).check()
    await expect(counter).to_contain_text("2 / 3")

    # Self-scores are saved as they are typed: a reload finds them.
    await phone.goto(f"{base}/report")
    first = phone.locator("input[name^='item-']").first
    await first.fill("9,5")
    await expect(phone.locator("[data-saved]")).to_contain_text("✓ Đã lưu.")
    await phone.reload()
    await expect(phone.locator("input[name^='item-']").first).to_have_value("9,5")

    # Standings: the table with the unit highlighted, and the chart drawn.
    await phone.goto(f"{base}/standings", wait_until="load")
    await expect(phone.locator("tr.mine")).to_contain_text("Sở Y tế")
    chart = phone.locator("img.chart")
    await expect(chart).to_be_visible()
    assert await chart.evaluate("img => img.complete && img.naturalWidth > 0")

    # English, from the footer; chat speaks it too from now on.
    await phone.get_by_role("button", name="English").tap()
    await expect(phone.get_by_role("navigation")).to_contain_text("Ballots")
    await expect(phone.get_by_role("heading", level=1)).to_contain_text("Standings")
    # The chart of the English page loaded before chat is used (the tests share one database
    # connection: two requests at once cannot run on it, unlike a real deployment).
    await phone.wait_for_load_state("load")
    assert (await tg.say(AN, "/help"))[-1].text.startswith("<b>Your commands</b>")
    assert live.console == []
