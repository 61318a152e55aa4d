"""The console's units page in Chromium at a phone's width: the table read as cards (nothing
wider than the screen), an import through the real file picker (preview, then confirm), and
an invite printed with its QR code (drawn, inside the page's policy; in print, only the
invite)."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Page, Route, expect

from tests.handlers.conftest import SECRETARY
from tests.handlers.support import UNITS, csv_bytes
from tests.web.browser.conftest import PHONE, Live


async def _signed_in(live: Live, phone: Page) -> str:
    reply = await live.tg.say(SECRETARY, "/web")
    link = re.search(r"http://\S+/signin/[A-Za-z0-9_-]{43}", reply[-1].text)
    assert link is not None
    await phone.goto(link.group(0))
    async with phone.expect_navigation():
        await phone.get_by_role("button", name="Đăng nhập").tap()
    return link.group(0).split("/signin/")[0]


async def _fits(phone: Page) -> None:
    width = await phone.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"


async def test_units_on_a_phone_import_and_a_printed_invite(live: Live, phone: Page) -> None:
    await live.tg.admin_setup(units=UNITS)
    base = await _signed_in(live, phone)
    await phone.goto(f"{base}/console")
    await phone.get_by_role("link", name="Đơn vị thành viên", exact=True).tap()
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Đơn vị thành viên")
    # Under 600 px each row is a card: its cells say which column they are.
    row = phone.locator("table.units tbody tr").nth(1)
    await expect(row).to_contain_text("Sở Giáo dục và Đào tạo")
    label = await row.locator("td").first.evaluate(
        "td => getComputedStyle(td, '::before').content"
    )
    assert label == '"Số: "'
    head = await phone.locator("table.units thead").bounding_box()
    assert head is not None
    assert head["height"] <= 1  # the column names: for screen readers only
    await _fits(phone)

    # The import: the file picked, a preview, nothing saved until «confirm».
    name = "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Điện Biên (cơ quan thường trực)"
    rows = [("Tên đơn vị", "Tên viết tắt"), (name, "UBMTTQ")]
    await phone.get_by_label("Tệp (.csv, .xlsx)").set_input_files(
        {"name": "don-vi.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows)}
    )
    await phone.get_by_role("button", name="Xem trước").tap()
    await expect(phone.locator("main")).to_contain_text("Sẽ thêm 1 đơn vị")
    await _fits(phone)
    # Pressed again while the first press is on its way (a slow connection, an impatient
    # thumb): the form is sent once.
    sent: list[str] = []
    arrived, first = asyncio.Event(), asyncio.Event()

    async def slow(route: Route) -> None:
        sent.append(route.request.method)
        arrived.set()
        if len(sent) == 1:
            await first.wait()
        await route.continue_()

    await phone.route("**/console/units/import/confirm", slow)
    confirm = phone.get_by_role("button", name="Xác nhận nhập 1 đơn vị")
    box = await confirm.bounding_box()
    assert box is not None
    await confirm.tap(no_wait_after=True)
    await asyncio.wait_for(arrived.wait(), 10)
    # The second press, where the button is, while the first is still on its way.
    await phone.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await asyncio.sleep(0.3)
    first.set()
    await expect(phone.locator("main")).to_contain_text("✅ Đã nhập 1 đơn vị.")
    await expect(phone.locator("table.units")).to_contain_text(name)
    await expect(phone.locator("table.units tbody tr", has_text="UBMTTQ")).to_have_count(1)
    assert sent == ["POST"]
    await phone.unroute("**/console/units/import/confirm")
    await _fits(phone)

    # An invite for the new unit, printed: the QR code drawn within the page's policy.
    await phone.get_by_role("link", name=name).tap()
    await phone.get_by_role("button", name="Cấp mã mời").tap()
    qr = phone.locator(".invite .qr svg")
    await expect(qr).to_be_visible()
    box = await qr.bounding_box()
    assert box is not None
    assert 100 <= box["width"] <= PHONE["width"]
    await _fits(phone)
    await phone.emulate_media(media="print")
    assert not await phone.locator("nav.tabs").is_visible()
    assert not await phone.get_by_text("Mã chỉ hiện một lần").is_visible()
    await expect(phone.locator(".invite h2")).to_have_text(f"Đại diện {name}")
    await expect(qr).to_be_visible()
    assert live.console == []
