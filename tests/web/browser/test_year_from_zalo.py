"""Issue 19, acceptance 1: a secretariat that never touches Telegram runs a whole year from Zalo
and the console. The bot runs on Zalo alone (the fake Zalo server; no Telegram token, so no
t.me links); the secretariat is a Zalo account named in ADMIN_IDS. From Zalo it asks for its
sign-in link; on a phone-sized Chromium it creates the bloc, imports the units (preview, then
confirm), prints the invites, imports the scoring table (preview, then save), opens a report
period, reviews one report and returns another, sets up the conference, creates and runs every
ballot (open, count behind the confirm), sets the covenant, writes, previews and sends the
summary, downloads the minutes, vote-count records and memo, and starts the new year. The
five units' representatives are Zalo users too: they join with the printed codes, submit their
reports on the web (a Zalo bot takes no files), check in with the hall's code, vote and sign on
Zalo (one unit on the web). The end: the database rows, the audit chain, what each person was
sent on Zalo — and not one request to Telegram."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from docx import Document
from playwright.async_api import Browser, Page, expect
from sqlmodel import col, select

from bot.core.models import Account, Platform
from bot.fakes.ratelimit import NoRateLimit
from bot.fakes.zalo import FakeZalo, ZaloUser
from bot.services.audit import verify_log
from handlers.channels import Channels
from handlers.zalo.bot import ZaloBot
from handlers.zalo.client import ZaloClient
from handlers.zalo.notifier import ZaloNotifier
from scheduler.sender import Sender
from storage.tables import (
    AccountRow,
    BallotResultRow,
    BallotRow,
    BlocRow,
    CountedReceiptRow,
    CovenantSignatureRow,
    MembershipRow,
    OpenVoteRow,
    SubmissionRow,
    UnitRow,
)
from tests.conftest import AUDIT_KEY
from tests.handlers.support import SYT_VALUES, TABLE_EXAMPLE, csv_bytes, hall_code
from tests.web.browser.conftest import PHONE, Live
from tests.web.browser.test_acceptance import REPORT_DATA, REPORT_NAME, LockedTypist, _points
from tests.zalo.helpers import TOKEN

BLOC = "Khối thi đua Văn hóa - Xã hội"
LAN = ZaloUser("7700000000000000001", "Nguyễn Thị Lan")  # the secretariat: Zalo only
UNITS = [
    ("Sở Y tế", "SYT"),
    ("Sở Giáo dục và Đào tạo", "SGDĐT"),
    ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL"),
    ("Sở Thông tin và Truyền thông", "STTTT"),
    ("Sở Tư pháp", "STP"),
]
SYT, SGD, SVH, STT, STP = (name for name, _ in UNITS)
# One representative per unit, in the units' order, all on Zalo.
REPS = [
    ZaloUser("7700000000000000011", "Trần Văn An"),
    ZaloUser("7700000000000000012", "Phạm Văn Cường"),
    ZaloUser("7700000000000000013", "Đỗ Thị Dung"),
    ZaloUser("7700000000000000014", "Vũ Văn Giang"),
    ZaloUser("7700000000000000015", "Hà Thị Mai"),
]
AN, CUONG, DUNG, GIANG, MAI = REPS
LINK = re.compile(r"http://\S+/signin/[A-Za-z0-9_-]{43}")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
COMMENT = "Bổ sung số liệu chuyển đổi số."
COVENANT = "Các đơn vị cam kết thi đua hoàn thành xuất sắc nhiệm vụ chính trị năm 2025."
MOVEMENTS = "Năm 2024, các phong trào thi đua được triển khai sâu rộng trong toàn Khối."
CLOSING = "Xin trân trọng cảm ơn các đơn vị."
# What each unit's representative types on Zalo for ballots 1–4, 6 and 7 (an option's number
# or a candidate unit's short name). Ballot 5, up to three units, is typed by numbers: after
# ballots 2–4 its candidates are the units no higher tier proposed (1. SGDĐT, 2. STP).
PLAN = {
    1: ["1", "1", "1", "1", "2"],  # the report: four agree, one disagrees
    2: ["SGDĐT", "SYT", "SYT", "SYT", "SYT"],  # Government flag: Sở Y tế
    3: ["SVHTTDL", "SVHTTDL", "SGDĐT", "SVHTTDL", "SVHTTDL"],  # provincial flag: Sở Văn hóa
    4: ["STTTT", "STTTT", "STTTT", "STP", "STTTT"],  # PM's certificate: Sở Thông tin
    5: ["1, 2", "2", "1, 2", "", "1"],  # chair's certificate: Sở GD&ĐT and Sở Tư pháp
    6: ["SGDĐT", "SVHTTDL", "SGDĐT", "SGDĐT", "SGDĐT"],  # next year's leader: Sở GD&ĐT
    7: ["SVHTTDL", "SVHTTDL", "SYT", "SVHTTDL", "SVHTTDL"],  # its deputy: Sở Văn hóa
}
WEB_VOTER = 3  # Sở Thông tin's representative votes on ballot 5 and signs on the web


@dataclass
class Year:
    live: Live
    zalo: FakeZalo
    typist: LockedTypist

    def told(self, user: ZaloUser) -> list[str]:
        return self.zalo.texts_to(user)


@pytest.fixture
async def year(live: Live) -> AsyncIterator[Year]:
    """The bot on Zalo alone, as `python -m bot run` starts it with only ZALO__TOKEN: no
    Telegram username (no t.me links), the outbox sending through Zalo only, and the
    secretariat's Zalo account an admin (ADMIN_IDS=zalo:…)."""
    services = live.services
    async with FakeZalo(TOKEN) as zalo:
        client = ZaloClient(TOKEN, zalo.url, backoff=0.01)
        services.channels = frozenset({Platform.ZALO})
        services.bot_username = ""
        services.admins = frozenset({Account(Platform.ZALO, LAN.id)})
        live.tg.sender = Sender(
            services.db,
            Channels({Platform.ZALO: ZaloNotifier(client)}),
            NoRateLimit(),
            services.clock,
            services.renderer,
        )
        typist = LockedTypist(zalo, ZaloBot(services, client), live.lock)
        yield Year(live, zalo, typist)
        await client.close()


async def _signed_in(year: Year, user: ZaloUser, page: Page) -> None:
    """«web» on Zalo, the link opened on the phone, «Đăng nhập»."""
    said = await year.typist.say(user, "web")
    link = LINK.search(said)
    assert link is not None, said
    await page.goto(link.group(0))
    async with page.expect_navigation():
        await page.get_by_role("button", name="Đăng nhập").tap()


async def _new_phone(browser: Browser) -> Page:
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    return await context.new_page()


async def _fits(page: Page) -> None:
    """Nothing wider than the phone (no sideways scrolling)."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


async def _submit_report(page: Page) -> None:
    """A representative's report on the web: the file, every criterion, «submit»."""
    await page.get_by_role("navigation").get_by_role("link", name="Báo cáo").tap()
    await page.set_input_files(
        "#report-file",
        files={"name": REPORT_NAME, "mimeType": "application/pdf", "buffer": REPORT_DATA},
    )
    await page.get_by_role("button", name="⬆ Tải tệp lên").tap()
    await expect(page.locator("main")).to_contain_text(REPORT_NAME)
    inputs = page.locator("input[name^='item-']")
    for index, value in enumerate(SYT_VALUES):
        await inputs.nth(index).fill(_points(value))
    await page.get_by_role("button", name="✅ Xác nhận nộp").tap()
    await expect(page.locator("main")).to_contain_text("✅ Biên nhận báo cáo")


async def _open(phone: Page, number: int) -> None:
    card = phone.locator(f"#ballot-{number}")
    await card.get_by_role("button", name="Mở biểu quyết").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        f"Đã mở biểu quyết số {number}; đại diện các đơn vị đã nhận phiếu."
    )


async def _count(phone: Page, number: int) -> str:
    """«Kết thúc và kiểm phiếu», its confirm page, then the count as the console shows it."""
    card = phone.locator(f"#ballot-{number}")
    await card.get_by_role("link", name="Kết thúc và kiểm phiếu").tap()
    await expect(phone.get_by_role("main")).to_contain_text("Sau khi kết thúc")
    await phone.get_by_role("button", name="Kết thúc và kiểm phiếu ngay").tap()
    await expect(phone.get_by_role("status")).to_contain_text("📊 Kết quả")
    return await phone.get_by_role("status").inner_text()


async def _vote(year: Year, rep: ZaloUser, number: int, choice: str) -> str:
    """A vote typed on Zalo: the ballot's number and the choice, then «xác nhận»."""
    asked = await year.typist.say(rep, f"bo phieu {number} {choice}")
    assert "Xác nhận biểu quyết?" in asked, asked
    return await year.typist.say(rep, "xac nhan")


async def _vote_on_the_web(page: Page, base: str, names: list[str]) -> str:
    """Ballot 5 on the web: the candidates ticked, reviewed, confirmed; the receipt."""
    await page.goto(f"{base}/")
    await page.get_by_role("navigation").get_by_role("link", name="Biểu quyết").tap()
    await page.get_by_role("link", name=re.compile(r"^🗳 Biểu quyết\s*: 5\. ")).tap()
    for name in names:
        await page.get_by_label(name, exact=True).check()
    await page.get_by_role("button", name="Xem lại và xác nhận").tap()
    await page.get_by_role("button", name="✅ Xác nhận").tap()
    receipt = (await page.locator(".receipt").inner_text()).strip()
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", receipt), receipt
    return receipt


async def _sign_on_zalo(year: Year, rep: ZaloUser) -> str:
    shown = await year.typist.say(rep, "giao uoc")
    assert COVENANT in shown, shown
    asked = await year.typist.say(rep, "ky")
    assert asked.endswith("Gõ 1 để xác nhận ký, 2 để thôi."), asked
    return await year.typist.say(rep, "1")


async def _download(phone: Page, name: str) -> tuple[str, bytes]:
    """A document as the browser saves it (its file name and bytes)."""
    async with phone.expect_download() as started:
        await phone.get_by_role("link", name=name, exact=True).tap()
    download = await started.value
    path = await download.path()
    return download.suggested_filename, path.read_bytes()


def _text_of(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


async def test_a_secretariat_runs_the_year_from_zalo_and_the_console(
    year: Year, browser: Browser, phone: Page
) -> None:
    live, services = year.live, year.live.services

    # 1. Zalo gives the secretariat its link; the console opens on «create the first bloc».
    said = await year.typist.say(LAN, "web")
    assert "thường trực điều hành khối ở mục «Thường trực»" in said
    link = LINK.search(said)
    assert link is not None
    base = link.group(0).split("/signin/")[0]
    await phone.goto(link.group(0))
    async with phone.expect_navigation():
        await phone.get_by_role("button", name="Đăng nhập").tap()
    await expect(phone.get_by_role("main")).to_contain_text("Hãy tạo khối thi đua đầu tiên")
    await phone.get_by_role("navigation").get_by_role("link", name="Thường trực").tap()
    await expect(phone.locator("h1")).to_have_text("Tạo khối, cụm thi đua")
    await phone.get_by_label("Tên khối, cụm").fill(BLOC)
    await phone.get_by_label("Năm thi đua").fill("2024")
    await phone.get_by_label("Ký hiệu").fill("KTĐVHXH")
    await phone.get_by_role("button", name="Tạo khối").tap()
    await expect(phone.locator("h1")).to_have_text("Bảng điều hành của thường trực")
    await expect(phone.locator(".sub")).to_have_text(f"{BLOC} · 2024")

    # 2. The units from a CSV file: a preview, then «confirm»; an invite for every unit.
    await phone.get_by_role("link", name="Đơn vị thành viên", exact=True).first.tap()
    rows = [("Tên đơn vị", "Tên viết tắt"), *UNITS]
    await phone.get_by_label("Tệp (.csv, .xlsx)").set_input_files(
        {"name": "don-vi.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows)}
    )
    await phone.get_by_role("button", name="Xem trước").tap()
    await expect(phone.locator("main")).to_contain_text("Sẽ thêm 5 đơn vị")
    await phone.get_by_role("button", name="Xác nhận nhập 5 đơn vị").tap()
    await expect(phone.locator("main")).to_contain_text("✅ Đã nhập 5 đơn vị.")
    await phone.get_by_role(
        "button", name="Cấp và in mã mời cho các đơn vị chưa có đại diện"
    ).tap()
    await expect(phone.locator("h1")).to_have_text("Mã mời")
    invites = phone.locator("article.invite")
    await expect(invites).to_have_count(5)
    await expect(invites.first).to_contain_text("Trên Zalo: nhắn mã này cho bot thi đua")
    assert await phone.locator("article.invite svg").count() == 0  # no Telegram link to scan
    await _fits(phone)
    codes = {}
    for article in await invites.all():
        unit = (await article.locator("h2").inner_text()).removeprefix("Đại diện ")
        codes[unit] = await article.locator("code").inner_text()

    # 3. Each representative sends the code to the bot on Zalo.
    for rep, (unit, _) in zip(REPS, UNITS, strict=True):
        joined = await year.typist.say(rep, codes[unit])
        assert joined.startswith(f"✅ Bạn đã tham gia {BLOC} với tư cách đại diện của {unit}."), (
            joined
        )

    # 4. The scoring table (a preview, then saved) and the report period.
    # The overview's next steps link the console's pages (never a Telegram command).
    await phone.goto(f"{base}/console")
    await expect(phone.locator("main")).not_to_contain_text("Telegram")
    await phone.locator("ol.steps").get_by_role("link", name="Bảng chấm điểm").tap()
    await phone.get_by_label("Chọn tệp bảng chấm điểm").set_input_files(
        {
            "name": "bang-cham-diem.yaml",
            "mimeType": "application/yaml",
            "buffer": TABLE_EXAMPLE.read_bytes(),
        }
    )
    await phone.get_by_role("button", name="Xem trước").tap()
    await expect(phone.locator("main")).to_contain_text("Bảng chưa được lưu.")
    await phone.get_by_role("button", name="✅ Lưu bảng (phiên bản 1)").tap()
    await expect(phone.get_by_role("status")).to_contain_text("✅ Đã nhập bảng chấm điểm.")
    await phone.get_by_role("status").get_by_role("link", name="Kỳ báo cáo").tap()
    await phone.get_by_label("Tiêu đề").fill("Báo cáo tổng kết năm 2024")
    await phone.get_by_label("Hạn chót").fill("2024-12-15T17:00")
    await phone.get_by_role("button", name="Mở kỳ báo cáo").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        "✅ Đã mở kỳ báo cáo số 1: Báo cáo tổng kết năm 2024"
    )
    for rep in REPS:
        assert year.told(rep)[-1].startswith(
            f"📋 {BLOC} đã mở kỳ «Báo cáo tổng kết năm 2024». Hạn chót: 17:00 15/12/2024."
        )

    # 5. Four units submit on the web, signed in from Zalo (Sở Tư pháp does not).
    web = await _new_phone(browser)
    for rep in REPS[:4]:  # the last one, Sở Thông tin's, stays signed in on this phone
        await _signed_in(year, rep, web)
        await _submit_report(web)
    await phone.goto(f"{base}/console/periods/1")
    await expect(phone.locator("main")).to_contain_text(
        "Đã nộp 4/5: đúng hạn 4, muộn 0, trả lại 0, chưa nộp 1"
    )

    # 6. Sở Y tế's report reviewed (1.2 marked down); Sở GD&ĐT's returned with a comment.
    await phone.get_by_role("link", name=SYT).tap()
    await phone.get_by_label(re.compile(r"^1\.2 ")).fill("18")
    await phone.get_by_role("button", name="✅ Lưu kết quả thẩm định").tap()
    await expect(phone.get_by_role("status")).to_have_text(
        f"✅ Đã lưu kết quả thẩm định {SYT} (Báo cáo tổng kết năm 2024, phiên bản 1): 100 điểm "
        "(đơn vị tự chấm 102). Đơn vị đã được thông báo."
    )
    await phone.get_by_role("link", name="Về tình hình nộp của kỳ").tap()
    await phone.get_by_role("link", name=SGD).tap()
    await phone.get_by_role("link", name="Trả lại để sửa").tap()
    await phone.get_by_label("Nộp lại đến").fill("2024-12-18T17:00")
    await phone.get_by_label("Nhận xét (gửi cho đơn vị)").fill(COMMENT)
    await phone.get_by_role("button", name="Trả lại báo cáo").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        f"↩️ Đã trả lại báo cáo của {SGD} (phiên bản 1)"
    )
    assert year.told(AN)[-1] == (
        f"📋 Thường trực đã thẩm định «Báo cáo tổng kết năm 2024» của {SYT} (phiên bản 1): "
        "100 điểm (tự chấm 102). Điểm thẩm định được dùng để xếp hạng."
    )
    assert year.told(CUONG)[-1].startswith(
        f"↩️ «Báo cáo tổng kết năm 2024» của {SGD} (phiên bản 1) được trả lại để sửa.\n"
        f"Ý kiến của thường trực: «{COMMENT}»"
    )

    # 7. The conference through its form; each unit checks in on Zalo with the hall's code.
    await phone.goto(f"{base}/console")
    await phone.get_by_role("link", name="Sửa thông tin hội nghị").first.tap()
    await phone.get_by_label("Ngày", exact=True).fill("2024-12-20")
    await phone.get_by_label("Giờ", exact=True).fill("08:00")
    await phone.get_by_label("Địa điểm", exact=True).fill("Hội trường Sở Y tế")
    await phone.get_by_label("Đơn vị chủ trì").select_option("SYT")
    await phone.get_by_label("Chủ tọa: họ tên").fill("Nguyễn Văn Thành")
    await phone.get_by_label("Chức vụ của chủ tọa").fill("Giám đốc Sở")
    await phone.get_by_label("Thư ký", exact=True).fill("Lò Thị Hương")
    await phone.get_by_label("Ban kiểm phiếu", exact=True).fill("Quàng Thị Mai\nTrần Đức Long")
    await phone.get_by_role("button", name="Lưu thông tin hội nghị").tap()
    await expect(phone.get_by_role("main")).to_contain_text("Đã lưu thông tin hội nghị.")
    code = await hall_code(services)
    for n, (rep, (unit, _)) in enumerate(zip(REPS, UNITS, strict=True), start=1):
        checked = await year.typist.say(rep, f"diem danh {code}")
        assert checked.startswith(f"✅ Đã điểm danh: {unit}. Có mặt {n}/5 đơn vị"), checked

    # 8. The conference's ballots; each opened, voted on Zalo (ballot 5 partly on the web),
    # then counted behind its confirm, in order (a higher award tier decides first).
    await phone.get_by_role("link", name="Về bảng điều hành").tap()
    await phone.get_by_role("link", name="Biểu quyết, bầu cử").first.tap()
    await expect(phone.locator(".sub")).to_contain_text("Có mặt: 5/5 đơn vị")
    await phone.get_by_role("button", name=re.compile("Tạo đủ các nội dung")).tap()
    await expect(phone.locator(".cards > li")).to_have_count(7)
    results: dict[int, str] = {}
    receipts: dict[int, str] = {}
    for number, choices in PLAN.items():
        await _open(phone, number)
        for index, (rep, choice) in enumerate(zip(REPS, choices, strict=True)):
            if number == 5 and index == WEB_VOTER:
                receipts[number] = await _vote_on_the_web(web, base, [SGD, STP])
                continue
            done = await _vote(year, rep, number, choice)
            assert done.startswith("✅"), done
            if number == 2 and rep == MAI:
                found = re.search(r"Mã biên nhận: (\w{4}-\w{4}-\w{4})", done)
                assert found is not None, done
                receipts[number] = found.group(1)
        await _fits(phone)
        results[number] = await _count(phone, number)
    await _fits(phone)
    assert "Kết luận: thông qua." in results[1]
    assert "• Đồng ý: 4 phiếu (80,0%) ✔" in results[1]
    assert f"Kết luận: đề nghị {SYT}." in results[2]
    assert f"Kết luận: đề nghị {SVH}." in results[3]
    assert f"Kết luận: đề nghị {STT}." in results[4]
    assert f"• {SGD}: 4 phiếu (80,0%) ✔" in results[5]
    assert f"• {STP}: 4 phiếu (80,0%) ✔" in results[5]
    assert f"• {SGD}: 4 phiếu (80,0%) ✔" in results[6]
    assert f"• {SVH}: 4 phiếu (80,0%) ✔" in results[7]
    # Sở Tư pháp's receipt was counted; it checks that on Zalo after the count.
    checked = await year.typist.say(MAI, f"kiem tra {receipts[2]}")
    assert checked == (
        f"✅ Phiếu có mã {receipts[2]} đã được kiểm trong «Đề nghị tặng Cờ thi đua của Chính phủ»."
    )

    # 9. The covenant set on the console; four units sign on Zalo, one on the web.
    await phone.goto(f"{base}/console/covenant")
    await phone.get_by_label("Nội dung giao ước", exact=True).fill(COVENANT)
    await phone.get_by_label("Hạn ký (không bắt buộc)").first.fill("2024-12-31T17:00")
    await phone.get_by_role("button", name="Lưu giao ước").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        "✅ Đã lưu giao ước thi đua năm 2025, hạn ký 17:00 thứ Ba, 31/12/2024."
    )
    for index, rep in enumerate(REPS):
        if index == WEB_VOTER:
            await web.get_by_role("navigation").get_by_role("link", name="Giao ước").tap()
            await web.get_by_role("button", name="✍️ Ký giao ước").tap()
            await web.get_by_role("button", name="✅ Xác nhận ký").tap()
            await expect(web.locator("main")).to_contain_text("đã ký giao ước thi đua năm 2025")
            continue
        signed = await _sign_on_zalo(year, rep)
        assert signed.startswith(f"✅ {UNITS[index][0]} đã ký giao ước thi đua năm 2025"), signed
    await phone.reload()
    await expect(phone.locator("main")).to_contain_text("Đã ký: 5/5 đơn vị.")

    # 10. The summary: two paragraphs, the preview, then sent to every member (no group).
    await phone.goto(f"{base}/console")
    await phone.get_by_role("link", name="Bài tổng kết và biên bản").first.tap()
    await phone.get_by_label("Phong trào thi đua trong năm").fill(MOVEMENTS)
    await phone.get_by_label("Đoạn kết").fill(CLOSING)
    await phone.get_by_role("button", name="Lưu các đoạn văn").tap()
    await expect(phone.get_by_role("status")).to_have_text(
        "✅ Đã lưu các đoạn văn của bài tổng kết."
    )
    preview = phone.locator("div[lang=vi]")
    await expect(preview).to_contain_text(MOVEMENTS)
    await expect(preview).to_contain_text("đề nghị 01 đơn vị được nhận Cờ thi đua của Chính phủ")
    await _fits(phone)
    await phone.get_by_role("link", name="Gửi bài tổng kết cho các thành viên").tap()
    await expect(phone.get_by_role("main")).to_contain_text(
        "sẽ được gửi riêng cho từng thành viên của khối"
    )
    await phone.get_by_role("button", name="✅ Gửi cho các thành viên").tap()
    await expect(phone.get_by_role("status")).to_have_text(
        "✅ Khối chưa liên kết nhóm: đã gửi bài tổng kết riêng cho 6 thành viên của khối."
    )
    for person in (LAN, *REPS):
        sent = year.told(person)[-1]
        assert sent.startswith(f"📰 {BLOC} tổng kết công tác thi đua, khen thưởng năm 2024"), sent
        assert MOVEMENTS in sent
        assert sent.endswith(CLOSING)

    # 11. The minutes, the vote-count records and the memo: Word files, as saved.
    papers = {}
    for label, what in (
        ("📄 Biên bản hội nghị (DOCX)", "BIÊN BẢN"),
        ("📄 Biên bản kiểm phiếu (DOCX)", "KIỂM PHIẾU"),
        ("📄 Tờ trình đề nghị khen thưởng (DOCX)", "TỜ TRÌNH"),
    ):
        name, data = await _download(phone, label)
        assert name.endswith(".docx"), name
        assert data[:4] == b"PK\x03\x04"
        assert len(data) > 10_000, (name, len(data))
        text = _text_of(data)
        assert what in text.upper(), (name, text[:300])
        papers[name] = text
        href = await phone.get_by_role("link", name=label, exact=True).get_attribute("href")
        response = await phone.request.get(f"{base.removesuffix('/web')}{href}")
        assert response.headers["content-type"] == DOCX
    assert len(papers) == 3
    assert all(BLOC in text or BLOC.upper() in text for text in papers.values())

    # 12. The new year: its page says what will happen, then it happens on the confirm.
    await phone.get_by_role("link", name="Chuyển sang năm mới").tap()
    await expect(phone.get_by_role("main")).to_contain_text(
        "Kết thúc năm 2024, chuyển sang năm 2025"
    )
    await _fits(phone)
    await phone.get_by_role("button", name="✅ Chuyển sang năm 2025").tap()
    await expect(phone.get_by_role("status")).to_contain_text("✅ Đã chuyển sang năm 2025.")
    for person in (LAN, *REPS):
        assert year.told(person)[-1].startswith(f"🎉 {BLOC} bước sang năm thi đua 2025.")
    assert live.console == []

    # What the database holds.
    async with services.db.uow() as uow:
        session = uow.session
        (bloc,) = (await session.exec(select(BlocRow))).all()
        units = {u.id: u.name for u in (await session.exec(select(UnitRow))).all()}
        ids = {name: uid for uid, name in units.items()}
        members = (
            await session.exec(
                select(MembershipRow, AccountRow).join(
                    AccountRow, col(AccountRow.identity_id) == col(MembershipRow.identity_id)
                )
            )
        ).all()
        submissions = (await session.exec(select(SubmissionRow))).all()
        ballots = (await session.exec(select(BallotRow).order_by(col(BallotRow.id)))).all()
        decided = {
            r.ballot_id: json.loads(r.decided)
            for r in (await session.exec(select(BallotResultRow))).all()
        }
        open_votes = (await session.exec(select(OpenVoteRow))).all()
        counted = (await session.exec(select(CountedReceiptRow))).all()
        signatures = (await session.exec(select(CovenantSignatureRow))).all()
        assert (bloc.name, bloc.code, bloc.year) == (BLOC, "KTĐVHXH", 2025)
        assert (bloc.leader_unit_id, bloc.deputy_unit_id) == (ids[SGD], ids[SVH])
        assert bloc.group_chat_id is None
        assert sorted(units.values()) == sorted(name for name, _ in UNITS)
        # Everyone is on Zalo: the secretariat (no unit) and one representative per unit.
        assert {(a.platform, a.external_id) for _, a in members} == {
            ("zalo", p.id) for p in (LAN, *REPS)
        }
        assert {
            a.external_id: (m.unit_id, m.is_secretariat, m.is_representative) for m, a in members
        } == {
            LAN.id: (None, True, False),
            **{
                rep.id: (ids[unit], False, True)
                for rep, (unit, _) in zip(REPS, UNITS, strict=True)
            },
        }
        # The reports: one version each of four units; one reviewed, one returned.
        assert {
            units[s.unit_id]: (
                s.version,
                s.self_total_cp,
                s.reviewed_total_cp,
                s.returned_at is not None,
            )
            for s in submissions
        } == {
            SYT: (1, 10200, 10000, False),
            SGD: (1, 10200, None, True),
            SVH: (1, 10200, None, False),
            STT: (1, 10200, None, False),
        }
        # Seven ballots, all counted; the open one stored its five votes, the secret ones only
        # the counted receipts (five per ballot); who was decided.
        assert [(b.kind, b.status) for b in ballots] == [
            ("approve_report", "closed"),
            *[("award", "closed")] * 4,
            ("leader", "closed"),
            ("deputy", "closed"),
        ]
        assert len(open_votes) == 5
        assert all(v.ballot_id == ballots[0].id for v in open_votes)
        assert len(counted) == 6 * 5
        assert [[units[u] for u in decided.get(b.id or 0, [])] for b in ballots[1:]] == [
            [SYT],
            [SVH],
            [STT],
            [SGD, STP],
            [SGD],
            [SVH],
        ]
        assert sorted(units[s.unit_id] for s in signatures) == sorted(units.values())
    assert (await verify_log(services.db, AUDIT_KEY)).ok

    # What the representatives were told on Zalo along the way: each ballot's opening, and
    # nothing was ever sent to Telegram.
    opened = [t for t in year.told(GIANG) if t.startswith("🗳 ") and t.endswith("bo phieu")]
    assert len(opened) == 7
    assert live.tg.bot.mock_session.requests == []
