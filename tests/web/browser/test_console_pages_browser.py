"""Every page of the secretariat's console on a phone (360 px, Chromium): nothing wider than
the screen, a heading, and no script or CSP error — a bloc with a report period, a submitted
report and the conference with its ballots and check-ins, names with markup in them."""

from __future__ import annotations

import os
import re

from playwright.async_api import Page, expect

from tests.handlers.conftest import SECRETARY
from tests.handlers.support import (
    AN,
    OPEN_PERIOD,
    TABLE_EXAMPLE,
    conference_setup,
    submitted,
    unit_ids,
)
from tests.web.browser.conftest import Live

PAGES = (
    "/console",
    "/console/bloc",
    "/console/units",
    "/console/units/{dai}",
    "/console/units/{dai}/delete",
    "/console/table",
    "/console/periods",
    "/console/periods/1",
    "/console/conference",
    "/console/ballots",
    "/console/ballots/1/close",
    "/console/screen",
    "/console/deadlines",
    "/console/covenant",
    "/console/summary",
    "/console/audit",
    "/console/newyear",
)
SHOTS = os.environ.get("CONSOLE_SHOTS")  # a directory: each page's screenshot, to look at


async def test_every_console_page_fits_a_phone(live: Live, phone: Page) -> None:
    tg = live.tg
    await conference_setup(tg)
    # A fifth unit, not checked in (the conference page lists it), with a name that must wrap;
    # nothing refers to it, so its page offers to remove it.
    await tg.say(SECRETARY, f"/units add <b>Sở</b> {'TàiNguyênMôiTrường' * 4}; DAI")
    dai = (await unit_ids(live.services))["DAI"]  # its id: PostgreSQL's sequence runs on
    await tg.send_file(SECRETARY, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)
    await submitted(live.services, AN)
    reply = await tg.say(SECRETARY, "/web")
    link = re.search(r"http://\S+/signin/[A-Za-z0-9_-]{43}", reply[-1].text)
    assert link is not None
    await phone.goto(link.group(0))
    async with phone.expect_navigation():
        await phone.get_by_role("button", name="Đăng nhập").tap()
    base = link.group(0).split("/signin/")[0]
    for template in PAGES:
        path = template.format(dai=dai)
        if template == "/console/table":  # the unit's removal asked before: none leaves then
            await tg.say(SECRETARY, "/ballot open 1")
        response = await phone.goto(f"{base}{path}")
        assert response is not None
        assert response.status == 200, path
        await expect(phone.locator("h1")).to_be_visible()
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide"
        if SHOTS:
            name = path.strip("/").replace("/", "-")
            await phone.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)
    # The hall screen's link, shown once: a long address that must wrap, and its QR code.
    await phone.goto(f"{base}/console/screen")
    await phone.get_by_role("button", name="Tạo đường dẫn màn hình").tap()
    await expect(phone.locator("h1")).to_have_text("Đường dẫn màn hình hội trường")
    await expect(phone.locator("[data-screen-link]")).to_be_visible()
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the screen link's page is {width} px wide"
    await phone.goto(f"{base}/console/screen/revoke")
    await expect(phone.locator("h1")).to_have_text("Thu hồi đường dẫn màn hình?")
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the revoke page is {width} px wide"
    assert live.console == []
