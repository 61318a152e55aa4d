"""In Chromium at a phone's width: a representative opens the link from chat and signs in."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.handlers.support import AN, report_setup
from tests.web.browser.conftest import Live


async def chat_link(live: Live) -> str:
    replies = await live.tg.say(AN, "/web")
    found = re.search(r"(http://127\.0\.0\.1:\d+/web/signin/[A-Za-z0-9_-]{43})", replies[-1].text)
    assert found is not None, replies[-1].text
    return found.group(1)


async def test_the_link_from_telegram_signs_in_at_a_phone_width(live: Live, phone: Page) -> None:
    await report_setup(live.tg)
    link = await chat_link(live)
    await phone.goto(link)
    await expect(phone.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    await phone.get_by_role("button", name="Đăng nhập").tap()
    await expect(phone.get_by_role("heading", name="Sở Y tế")).to_be_visible()
    await expect(phone.get_by_role("navigation")).to_contain_text("Biểu quyết")
    # Nothing wider than the phone on any page: no sideways scrolling, every tab in view.
    base = link.split("/signin/")[0]
    for path in ("/", "/report", "/ballots", "/covenant", "/standings", "/checkin", "/receipt"):
        await phone.goto(base + path)
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, path
        for tab in await phone.get_by_role("navigation").get_by_role("link").all():
            box = await tab.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 360, path
    # The same link again: used, and the way to a new one.
    await phone.goto(link)
    await expect(phone.locator("main")).to_contain_text("đã được dùng")
    await expect(phone.locator("main")).to_contain_text("gửi /web")
    assert live.console == []
