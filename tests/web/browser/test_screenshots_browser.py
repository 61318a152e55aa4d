"""The README's pictures, taken in Chromium from a conference in progress: the secretariat's
console on an office computer, a representative's ballot page on a phone, and the hall screen
at a projector's 1920×1080 with a result counted among six units — it fits the projector, its
conclusion on the screen and no person's name on it. Written to the test's own folder; with
UPDATE_SCREENSHOTS=1, to docs/img/ (console.png, ballot.png, screen.png) for the README.
A database of its own, not a test transaction: the screen's page reads while chat writes."""

from __future__ import annotations

import os
import re
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.types import User
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    expect,
)

from storage.db import create_engine
from storage.migrate import migrate
from storage.uow import Database
from tests.handlers.conftest import SECRETARY, person
from tests.handlers.support import (
    AN,
    CUONG,
    DUNG,
    GIANG,
    OPEN_PERIOD,
    STT,
    SVH,
    TABLE_EXAMPLE,
    VOTE_UNITS,
    ballot_ids,
    cast,
    conference_setup,
    hall_code,
    join,
    submitted,
)
from tests.web.browser.conftest import PHONE, Live

ROOT = Path(__file__).resolve().parents[3]
# Six units: an award ballot's result has more rows than one column holds on the projector.
UNITS = [
    *VOTE_UNITS,
    ("Sở Lao động - Thương binh và Xã hội", "SLĐTBXH"),
    ("Báo Điện Biên Phủ", "BĐBP"),
]
HAI = person(2006, "Lò", "Văn Hải")  # represents Sở Lao động - Thương binh và Xã hội
HOA = person(2007, "Quàng", "Thị Hoa")  # represents Báo Điện Biên Phủ
OFFICE: ViewportSize = {"width": 880, "height": 800}
LARGEST = 150_000  # bytes: the README's pictures stay light


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A real SQLite database (every unit of work its own transaction, as in production)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pictures.db'}")
    await migrate(engine)
    database = Database(engine)
    yield database
    await database.dispose()


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    """Where the pictures go: the README's folder when asked to update them."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "img"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def _page(context: BrowserContext, live: Live) -> Page:
    """A page whose console errors (a CSP violation, a script error) go to `live.console`."""
    page = await context.new_page()

    def noted(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            live.console.append(message.text)

    page.on("console", noted)
    page.on("pageerror", lambda exc: live.console.append(str(exc)))
    return page


async def _sign_in(live: Live, page: Page, user: User) -> str:
    """`user` opens the link /web gave in chat; returns the companion's base URL."""
    reply = await live.tg.say(user, "/web")
    link = re.search(r"http://\S+/signin/[A-Za-z0-9_-]{43}", reply[-1].text)
    assert link is not None
    await page.goto(link.group(0))
    async with page.expect_navigation():
        await page.get_by_role("button", name="Đăng nhập").click()
    return link.group(0).split("/signin/")[0]


async def test_the_readme_pictures(browser: Browser, live: Live, pictures: Path) -> None:
    tg = live.tg
    await conference_setup(tg, units=UNITS)
    await tg.send_file(SECRETARY, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)
    await submitted(live.services, AN)
    await submitted(live.services, CUONG, name="Báo cáo SGDĐT.pdf")
    code = await hall_code(live.services)
    for user, unit in ((HAI, "5"), (HOA, "6")):
        await join(tg, user, unit)
        await tg.say(user, f"/checkin {code}")
    reply = await tg.say(SECRETARY, "/conference screen")
    screen_link = re.search(r"http://\S+/screen/[A-Za-z0-9_-]{43}", reply[-1].text)
    assert screen_link is not None

    # The Government's flag (one seat), voted and counted: the result on the projector.
    await tg.say(SECRETARY, "/ballot open 2")
    flag = (await ballot_ids(live.services))[1]
    for user, choice in ((AN, 1), (CUONG, 0), (DUNG, 1), (GIANG, 1), (HAI, 1), (HOA, 1)):
        await cast(tg, user, flag, choice)
    await tg.say(SECRETARY, "/ballot close 2")
    hall = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    try:
        screen = await _page(hall, live)
        await screen.goto(screen_link.group(0))
        result = screen.locator("section.result")
        await expect(result).to_contain_text("Kết quả: 2. Đề nghị tặng Cờ thi đua của Chính phủ")
        await expect(result.locator("tbody tr")).to_have_count(len(UNITS))
        await expect(result.locator(".conclusion")).to_have_text(
            "Kết quả: đề nghị Sở Giáo dục và Đào tạo."
        )
        conclusion = await result.locator(".conclusion").bounding_box()
        assert conclusion is not None
        assert conclusion["y"] + conclusion["height"] <= 1080, "the result runs off the screen"
        assert await screen.evaluate("document.documentElement.scrollHeight <= 1080")
        shown = await screen.locator("body").inner_text()
        for user in (AN, CUONG, DUNG, GIANG, HAI, HOA):
            assert user.full_name not in shown  # units only: nobody's name on the screen
        # Two thirds of the size: the layout follows the width, so the same picture, lighter.
        await screen.set_viewport_size({"width": 1280, "height": 720})
        await screen.screenshot(path=pictures / "screen.png")
    finally:
        await hall.close()

    # A representative's ballot page on a phone: the chairman's certificate, three seats.
    await tg.say(SECRETARY, "/ballot open 5")
    phone = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN", device_scale_factor=2
    )
    try:
        page = await _page(phone, live)
        base = await _sign_in(live, page, AN)
        await page.goto(f"{base}/ballots")
        await page.get_by_role("link", name=re.compile("Chủ tịch UBND tỉnh")).first.tap()
        await page.get_by_label(SVH, exact=True).check()
        await page.get_by_label(STT, exact=True).check()
        await expect(page.locator("[data-counter]")).to_contain_text("2 / 3")
        await page.evaluate("window.scrollTo(0, 0)")
        await page.screenshot(path=pictures / "ballot.png")
    finally:
        await phone.close()

    # The secretariat's console on the office's computer: the bloc at a glance.
    office = await browser.new_context(viewport=OFFICE, locale="vi-VN")
    try:
        page = await _page(office, live)
        await _sign_in(live, page, SECRETARY)
        await page.get_by_role("link", name="Thường trực").click()
        await expect(page.locator("h1")).to_have_text("Bảng điều hành của thường trực")
        await expect(page.get_by_role("main")).to_contain_text("Đã nộp: 2/6 đơn vị")
        await page.screenshot(path=pictures / "console.png")
    finally:
        await office.close()

    assert _png_size(pictures / "screen.png") == (1280, 720)
    assert _png_size(pictures / "ballot.png") == (2 * PHONE["width"], 2 * PHONE["height"])
    assert _png_size(pictures / "console.png") == (OFFICE["width"], OFFICE["height"])
    for name in ("console.png", "ballot.png", "screen.png"):
        weight = (pictures / name).stat().st_size
        assert 10_000 < weight <= LARGEST, f"{name}: {weight} bytes"
    assert live.console == []
