"""Issue 19: the secretariat's console in Chromium, one test per area — the scoring table, a
report period, deadlines and announcements, the covenant, the summary and minutes, the audit
log, the bloc. Each is done as a person taps it on a phone (360 px: nothing wider than the
screen, no script or CSP error); every destructive step shows what will happen before it is
confirmed; each test ends with the database rows and the messages members received."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Awaitable
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar

from aiogram.methods import SendMessage
from docx import Document
from openpyxl import load_workbook
from playwright.async_api import Page, expect
from sqlmodel import col, update

from bot.core.deadlines import DeadlineKind
from bot.core.models import Unit
from bot.core.reports import Submission
from bot.core.scoring import format_points
from bot.services.covenant import text_hash
from storage.covenant_repos import Covenant
from storage.tables import AuditRow
from tests.handlers.conftest import GROUP, SECRETARY
from tests.handlers.support import (
    AN,
    BINH,
    BLOC_CODE,
    CUONG,
    DUNG,
    GIANG,
    PERIOD_TITLE,
    REPORT,
    SYT_VALUES,
    TABLE_EXAMPLE,
    UNITS,
    VOTE_UNITS,
    audit_trail,
    ballot_ids,
    bloc_by_code,
    cast,
    conference_setup,
    csv_bytes,
    draft_id,
    entries,
    join,
    score_all,
    submitted,
    unit_ids,
    units_of,
    versions,
)
from tests.web.browser.conftest import PHONE, Live

T = TypeVar("T")
G1 = "I. Công tác chỉ đạo, điều hành và thực hiện nhiệm vụ chính trị"
G4 = "IV. Xây dựng Đảng, đoàn thể và công tác phòng, chống tham nhũng"


async def _signed_in(live: Live, phone: Page) -> str:
    """The secretary opens the link `/web` gave in chat; returns the companion's base URL."""
    reply = await live.tg.say(SECRETARY, "/web")
    link = re.search(r"http://\S+/signin/[A-Za-z0-9_-]{43}", reply[-1].text)
    assert link is not None
    await phone.goto(link.group(0))
    async with phone.expect_navigation():
        await phone.get_by_role("button", name="Đăng nhập").tap()
    return link.group(0).split("/signin/")[0]


async def _fits(phone: Page) -> None:
    """Nothing on the page is wider than the phone (no sideways scrolling)."""
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{phone.url} is {width} px wide"


async def _locked(live: Live, read: Awaitable[T]) -> T:
    """A read of the test's own, made while no request of the page uses the test's one
    database connection (a style sheet still loading after the text is shown, say)."""
    async with live.lock:
        return await read


def _sent(live: Live) -> int:
    """How many Bot API requests so far: what the members get after this is `_told` since."""
    return len(live.tg.bot.mock_session.requests)


def _told(live: Live, since: int) -> dict[int, list[str]]:
    """The messages sent in chat since `since`, per chat."""
    out: dict[int, list[str]] = {}
    for r in live.tg.bot.mock_session.requests[since:]:
        if isinstance(r, SendMessage):
            out.setdefault(int(r.chat_id), []).append(r.text)
    return out


# --- the scoring table --------------------------------------------------------------------


async def _table_versions(live: Live) -> list[tuple[int, str, int]]:
    """(version, title, number of items) of every stored version, the newest first."""
    bloc = await bloc_by_code(live.services, BLOC_CODE)
    async with live.services.db.uow() as uow:
        stored = await uow.tables.versions(bloc.id, bloc.year)
    return [(version, table.title, len(table.items)) for version, table, _ in stored]


async def test_the_scoring_table_is_previewed_then_saved(live: Live, phone: Page) -> None:
    await live.tg.admin_setup(units=UNITS)
    await join(live.tg, AN, "1")
    since = _sent(live)
    await _signed_in(live, phone)
    await phone.get_by_role("link", name="Thường trực").tap()
    await phone.get_by_role("link", name="Bảng chấm điểm", exact=True).first.tap()
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Bảng chấm điểm")
    await expect(phone.locator("main")).to_contain_text("Chưa có bảng chấm điểm cho năm nay.")
    picker = phone.get_by_label("Chọn tệp bảng chấm điểm")

    # A file with mistakes: each named on its row, nothing saved, nothing to confirm.
    rows = [
        ("Loại", "Nhóm", "Mã", "Nội dung", "Điểm tối đa"),
        ("tiêu chí", "I. Chỉ đạo", "1.1", "Ban hành kế hoạch", "10"),
        ("tiêu chí", "I. Chỉ đạo", "1.1", "Trùng mã", "5"),
        ("tiêu chí", "I. Chỉ đạo", "1.3", "", "5"),
        ("tiêu chí", "I. Chỉ đạo", "1.4", "Báo cáo đúng hạn", "abc"),
    ]
    await picker.set_input_files(
        {"name": "bang-loi.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows)}
    )
    await phone.get_by_role("button", name="Xem trước").tap()
    alert = phone.get_by_role("alert")
    await expect(alert).to_contain_text("Bảng chấm điểm không được nhập vì 3 lỗi")
    problems = alert.locator("tbody tr")
    await expect(problems).to_have_count(3)
    for index, (line, problem) in enumerate(
        ((3, "mã mục trùng với một dòng trước"), (4, "thiếu nội dung"), (5, "điểm tối đa"))
    ):
        cells = problems.nth(index).locator("td")
        await expect(cells.nth(0)).to_have_text(str(line))
        await expect(cells.nth(1)).to_contain_text(problem)
    await expect(phone.get_by_role("button", name=re.compile("Lưu bảng"))).to_have_count(0)
    await _fits(phone)
    assert await _locked(live, _table_versions(live)) == []

    # The example table: its groups, items, maxima and caps shown before anything is saved.
    await picker.set_input_files(
        {
            "name": "bang-cham-diem.yaml",
            "mimeType": "application/yaml",
            "buffer": TABLE_EXAMPLE.read_bytes(),
        }
    )
    await phone.get_by_role("button", name="Xem trước").tap()
    preview = phone.locator("section[aria-labelledby=preview]")
    await expect(preview.get_by_role("heading", level=2)).to_have_text(
        "Xem trước: phiên bản 1, năm 2024"
    )
    await expect(preview).to_contain_text("Bảng chưa được lưu.")
    await expect(preview.get_by_role("heading", name=G1)).to_be_visible()
    await expect(preview.get_by_role("heading", name=G4)).to_be_visible()
    await expect(preview.get_by_role("row", name=re.compile(r"^1\.2 .* 20$"))).to_be_visible()
    await expect(preview.get_by_role("heading", name="Điểm thưởng (tối đa 5)")).to_be_visible()
    await expect(preview.get_by_role("heading", name="Điểm trừ (tối đa 10)")).to_be_visible()
    facts = preview.locator("dl.facts")
    await expect(facts).to_contain_text("100 điểm (10 tiêu chí, 4 nhóm)")
    await expect(facts).to_contain_text("Trần điểm thưởng5")
    await expect(facts).to_contain_text("Trần điểm trừ10")
    await _fits(phone)
    assert await _locked(live, _table_versions(live)) == []  # a preview saves nothing

    await phone.get_by_role("button", name="✅ Lưu bảng (phiên bản 1)").tap()
    await expect(phone.get_by_role("status")).to_contain_text("✅ Đã nhập bảng chấm điểm.")
    versions = phone.locator("section[aria-labelledby=current] tbody tr")
    await expect(versions).to_have_count(1)
    await _fits(phone)

    # A second version, from an edited file: the list shows both, the newest first.
    edited = TABLE_EXAMPLE.read_text().replace(
        "title: Bảng chấm điểm thi đua năm 2024", "title: Bảng chấm điểm sửa đổi năm 2024"
    )
    await phone.get_by_label("Chọn tệp bảng chấm điểm").set_input_files(
        {"name": "bang-sua.yaml", "mimeType": "application/yaml", "buffer": edited.encode()}
    )
    await phone.get_by_role("button", name="Xem trước").tap()
    await phone.get_by_role("button", name="✅ Lưu bảng (phiên bản 2)").tap()
    await expect(phone.get_by_role("status")).to_contain_text("phiên bản 2")
    await expect(versions).to_have_count(2)
    await expect(versions.nth(0)).to_contain_text("Bảng chấm điểm sửa đổi năm 2024")
    await expect(versions.nth(1)).to_contain_text("Bảng chấm điểm thi đua năm 2024")
    await _fits(phone)

    stored = await _locked(live, _table_versions(live))
    assert [(version, items) for version, _, items in stored] == [(2, 14), (1, 14)]
    assert stored[0][1].startswith("Bảng chấm điểm sửa đổi năm 2024")
    assert stored[1][1].startswith("Bảng chấm điểm thi đua năm 2024")
    imported = [
        a
        for a, _ in await _locked(live, audit_trail(live.services))
        if a.startswith("scoring_table")
    ]
    assert imported == ["scoring_table.imported", "scoring_table.imported"]
    # Saving a table tells nobody (the members hear of it when a period opens); the sign-in
    # link was the secretary's own reply.
    assert set(_told(live, since)) == {SECRETARY.id}
    assert live.console == []


# --- a report period ----------------------------------------------------------------------

PAPER = b"%PDF-1.7\n% bao cao giay cua So Van hoa\n%%EOF\n"
COMMENT = "Thiếu phụ lục số liệu về cải cách hành chính"


async def _download(phone: Page, name: str, exact: bool = False) -> tuple[str, bytes]:
    """Tap the link named `name`; the file the browser saved: its suggested name, its bytes."""
    async with phone.expect_download() as info:
        await phone.get_by_role("link", name=name, exact=exact).tap()
    download = await info.value
    path = await download.path()
    return download.suggested_filename, path.read_bytes()


async def _submissions(live: Live) -> dict[str, list[Submission]]:
    """Every stored version of each unit's report for the bloc's first period, by short name."""
    return {short: await versions(live.services, short) for _, short in UNITS}


async def test_a_report_period_opened_extended_reviewed_and_returned(
    live: Live, phone: Page
) -> None:
    tg = live.tg
    await tg.admin_setup(units=UNITS)
    for user, unit in ((AN, "1"), (BINH, "1"), (CUONG, "2"), (DUNG, "3")):
        await join(tg, user, unit)
    await tg.send_file(SECRETARY, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    since = _sent(live)
    base = await _signed_in(live, phone)

    # Open the period from its form.
    await phone.goto(f"{base}/console")
    await phone.get_by_role("link", name="Kỳ báo cáo, tình hình nộp, thẩm định").tap()
    await expect(phone.locator("main")).to_contain_text("Kỳ mới dùng bảng chấm điểm phiên bản 1")
    await phone.get_by_label("Loại kỳ").select_option("year_end")
    await phone.get_by_label("Tiêu đề").fill(PERIOD_TITLE)
    await phone.get_by_label("Hạn chót").fill("2024-12-15T17:00")
    await phone.get_by_label("Nộp sau hạn").select_option("refuse")
    await _fits(phone)
    await phone.get_by_role("button", name="Mở kỳ báo cáo").tap()
    await expect(phone.get_by_role("status")).to_contain_text("✅ Đã mở kỳ báo cáo số 1")
    await expect(phone.locator("main")).to_contain_text(
        "Đã nộp 0/3: đúng hạn 0, muộn 0, trả lại 0, chưa nộp 3"
    )
    await _fits(phone)

    # Extend it: the page says the current deadline and who will be told, then asks.
    await phone.get_by_role("link", name="Gia hạn kỳ báo cáo").tap()
    await expect(phone.locator("main")).to_contain_text("Hạn hiện tại: 17:00 15/12/2024")
    await expect(phone.locator("main")).to_contain_text("các đại diện đơn vị sẽ được báo hạn mới")
    await _fits(phone)
    await phone.get_by_label("Hạn mới").fill("2024-12-20T17:00")
    await phone.get_by_role("button", name="Gia hạn", exact=True).tap()
    await expect(phone.get_by_role("status")).to_contain_text("✅ Đã gia hạn kỳ")
    await expect(phone.get_by_role("status")).to_contain_text("đến 17:00 20/12/2024")
    extended_told = _told(live, since)
    await phone.reload()  # said again; nobody told a second time
    await expect(phone.get_by_role("status")).to_contain_text("từ 17:00 15/12/2024 đến")
    assert _told(live, since) == extended_told

    # An submits in chat (the walk, item by item); Cường's report is made beforehand.
    await tg.say(AN, "/report")
    replies = await tg.send_file(AN, "Báo cáo SYT.pdf", b"%PDF-1.7 bao cao Y te")
    draft = draft_id(replies)
    await score_all(tg, AN, draft)
    confirmed = await tg.tap(AN, f"wk:{draft}:confirm:0")
    assert "Biên nhận báo cáo" in confirmed[0].text
    async with live.lock:
        await submitted(live.services, CUONG, name="Báo cáo SGDĐT.pdf", data=b"%PDF-1.7 GD")

    await phone.goto(f"{base}/console/periods/1")
    await expect(phone.locator("main")).to_contain_text(
        "Đã nộp 2/3: đúng hạn 2, muộn 0, trả lại 0, chưa nộp 1"
    )
    lines = phone.locator("table.units tbody tr")
    await expect(lines.nth(0)).to_contain_text("✅ đã nộp")
    await expect(lines.nth(0)).to_contain_text("v1")
    await expect(lines.nth(0)).to_contain_text("102")
    await expect(lines.nth(1)).to_contain_text("✅ đã nộp")
    await expect(lines.nth(2)).to_contain_text("❌ chưa nộp")
    await _fits(phone)

    # The score sheet and the reports archive: real files.
    name, data = await _download(phone, "Bảng điểm (XLSX)")
    assert name == "diem-thi-dua.xlsx"
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert {"Sở Y tế", "Sở Giáo dục và Đào tạo"} <= cells
    name, data = await _download(phone, "Báo cáo các đơn vị (ZIP, phần 1/1)")
    assert name == "bao-cao-phan-1.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["01-SYT-v1.pdf", "02-SGDDT-v1.pdf"]
        assert archive.read("01-SYT-v1.pdf") == b"%PDF-1.7 bao cao Y te"
        assert archive.read("02-SGDDT-v1.pdf") == b"%PDF-1.7 GD"

    # Sở Y tế's report reviewed item by item: one value changed, the rest confirmed.
    review_since = _sent(live)
    await phone.get_by_role("link", name="Sở Y tế").tap()
    await expect(phone.locator("main")).to_contain_text("Báo cáo SYT.pdf")
    await expect(phone.get_by_label(re.compile(r"^1\.2 "))).to_have_value("20")
    await _fits(phone)
    await phone.get_by_label(re.compile(r"^1\.2 ")).fill("25")
    await phone.get_by_role("button", name="✅ Lưu kết quả thẩm định").tap()
    await expect(phone.get_by_label(re.compile(r"^1\.2 "))).to_have_attribute(
        "aria-invalid", "true"
    )
    await phone.get_by_label(re.compile(r"^1\.2 ")).fill("15")
    await phone.get_by_role("button", name="✅ Lưu kết quả thẩm định").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        "✅ Đã lưu kết quả thẩm định Sở Y tế"
    )
    await expect(phone.get_by_role("status")).to_contain_text("97 điểm (đơn vị tự chấm 102)")
    await _fits(phone)
    reviewed_told = _told(live, review_since)
    # Each saving form leads to a page of its own: a reload says it again, sends nothing.
    await phone.reload()
    await expect(phone.get_by_role("status")).to_contain_text("97 điểm (đơn vị tự chấm 102)")
    assert _told(live, review_since) == reviewed_told

    # Sở GD&ĐT's returned: the page says what happens, then the date and the comment.
    return_since = _sent(live)
    await phone.get_by_role("link", name="Về tình hình nộp của kỳ").tap()
    await phone.get_by_role("link", name="Sở Giáo dục và Đào tạo").tap()
    await phone.get_by_role("link", name="Trả lại để sửa").tap()
    main = phone.locator("main")
    await expect(main).to_contain_text("Sở Giáo dục và Đào tạo")
    await expect(main).to_contain_text(
        "Báo cáo được trả lại cho đơn vị kèm nhận xét; đơn vị được nộp lại (vẫn tính đúng hạn)"
    )
    await _fits(phone)
    assert (await _locked(live, versions(live.services, "SGDĐT")))[-1].returned_at is None
    await phone.get_by_label("Nộp lại đến").fill("2024-12-18T17:00")
    await phone.get_by_label("Nhận xét (gửi cho đơn vị)").fill(COMMENT)
    await phone.get_by_role("button", name="Trả lại báo cáo").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        "↩️ Đã trả lại báo cáo của Sở Giáo dục và Đào tạo (phiên bản 1)"
    )
    await expect(main).to_contain_text(f"«{COMMENT}»")
    returned_told = _told(live, return_since)
    await phone.reload()  # the unit is not told a second time
    await expect(phone.get_by_role("status")).to_contain_text(
        "↩️ Đã trả lại báo cáo của Sở Giáo dục và Đào tạo (phiên bản 1)"
    )
    assert _told(live, return_since) == returned_told

    # Sở Văn hóa's paper report, submitted on its behalf: the scan, then its scores.
    behalf_since = _sent(live)
    await phone.get_by_role("link", name="Về tình hình nộp của kỳ").tap()
    await expect(lines.nth(1)).to_contain_text("↩️ trả lại để sửa")
    await phone.get_by_role("link", name="Sở Văn hóa, Thể thao và Du lịch").tap()
    await expect(main).to_contain_text("chưa nộp báo cáo kỳ này")
    await phone.get_by_role("link", name="Nộp thay (báo cáo giấy)").tap()
    await phone.get_by_label("Tệp báo cáo (bản quét; tệp mới sẽ thay tệp cũ)").set_input_files(
        {"name": "Báo cáo giấy SVH.pdf", "mimeType": "application/pdf", "buffer": PAPER}
    )
    await phone.get_by_role("button", name="⬆ Tải tệp lên").tap()
    await expect(main).to_contain_text("Báo cáo giấy SVH.pdf")
    inputs = phone.locator("input[name^='item-']")
    await expect(inputs).to_have_count(len(SYT_VALUES))
    for index, value in enumerate(SYT_VALUES):
        await inputs.nth(index).fill(format_points(value))
    await _fits(phone)
    await phone.get_by_role("button", name="✅ Nộp thay đơn vị").tap()
    await expect(phone.get_by_role("status")).to_contain_text("Biên nhận báo cáo")
    await expect(phone.get_by_role("status")).to_contain_text("(thường trực nộp thay)")
    submitted_told = _told(live, behalf_since)
    await phone.reload()
    await expect(phone.get_by_role("status")).to_contain_text("(thường trực nộp thay)")
    assert _told(live, behalf_since) == submitted_told
    await phone.get_by_role("link", name="Về tình hình nộp của kỳ").tap()
    await expect(main).to_contain_text("Đã nộp 3/3: đúng hạn 2, muộn 0, trả lại 1, chưa nộp 0")
    await expect(lines.nth(2)).to_contain_text("thường trực nộp thay")
    await _fits(phone)
    behalf_told = _told(live, behalf_since)

    # The database: the period, each unit's versions and what was done to them.
    bloc = await _locked(live, bloc_by_code(live.services, BLOC_CODE))
    async with live.lock, live.services.db.uow() as uow:
        (period,) = await uow.reports.periods(bloc.id)
    assert (period.title, period.late_policy.value) == (PERIOD_TITLE, "refuse")
    assert period.deadline == datetime(2024, 12, 20, 10, 0, tzinfo=UTC)
    stored = await _locked(live, _submissions(live))
    (syt,) = stored["SYT"]
    assert (syt.self_total_cp, syt.reviewed_total_cp, syt.returned_at) == (10200, 9700, None)
    assert (await _locked(live, entries(live.services, syt, "reviewed")))["1.2"] == 1500
    (sgd,) = stored["SGDĐT"]
    assert sgd.returned_at is not None
    assert sgd.return_comment == COMMENT
    assert sgd.resubmit_until == datetime(2024, 12, 18, 10, 0, tzinfo=UTC)
    (svh,) = stored["SVHTTDL"]
    assert (svh.on_behalf, svh.file_name, svh.self_total_cp) == (
        True,
        "Báo cáo giấy SVH.pdf",
        10200,
    )
    assert live.services.files.read(svh.file_sha256) == PAPER

    # What the members were told, each at its step.
    told = _told(live, since)
    for person in (AN, BINH, CUONG, DUNG):
        said = "\n".join(told[person.id])
        assert f"đã mở kỳ «{PERIOD_TITLE}». Hạn chót: 17:00 15/12/2024" in said
        assert "được gia hạn đến 17:00 20/12/2024" in said
    assert any("Trần Văn An đã nộp" in text for text in told[BINH.id])
    for person in (AN, BINH):
        assert any(
            "Thường trực đã thẩm định" in text and "97 điểm (tự chấm 102)" in text
            for text in reviewed_told[person.id]
        )
    assert set(reviewed_told) == {AN.id, BINH.id}
    (notice,) = returned_told[CUONG.id]
    assert "được trả lại để sửa" in notice
    assert f"Ý kiến của thường trực: «{COMMENT}»" in notice
    assert "Đơn vị nộp lại trước 17:00 18/12/2024" in notice
    assert set(returned_told) == {CUONG.id}
    (notice,) = behalf_told[DUNG.id]
    assert "đã nộp thay" in notice
    assert "Sở Văn hóa, Thể thao và Du lịch" in notice
    assert set(behalf_told) == {DUNG.id}
    assert live.console == []


# --- deadlines and announcements ----------------------------------------------------------

DEADLINE = "Nộp danh sách đề nghị khen thưởng"
NEWS = "Các đơn vị chưa gửi danh sách hoàn thành trước 17 giờ thứ Sáu."


async def test_deadlines_reminders_and_an_announcement(live: Live, phone: Page) -> None:
    tg = live.tg
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, CUONG, "2")
    since = _sent(live)
    base = await _signed_in(live, phone)
    await phone.get_by_role("link", name="Thường trực").tap()
    await phone.get_by_role("link", name="Hạn chót và thông báo").tap()
    main = phone.locator("main")
    await expect(main).to_contain_text("Hiện không có hạn chót nào đang mở.")
    await _fits(phone)

    # A deadline, told to the representatives at once.
    await phone.get_by_label("Nội dung hạn chót").fill(DEADLINE)
    await phone.get_by_label("Hạn (ngày, giờ)").fill("2024-12-10T17:00")
    await phone.get_by_role("button", name="Thêm và báo cho các đơn vị").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        f"✅ Đã thêm hạn chót số 1: {DEADLINE}"
    )
    await expect(phone.get_by_role("status")).to_contain_text("Đã báo cho đại diện 2 người")
    await expect(phone.locator("#deadline-1")).to_contain_text("0/3")
    added_told = _told(live, since)

    # The reminder offsets of one kind, then the quiet hours.
    custom = phone.locator("form", has=phone.get_by_label("Hạn do thường trực đặt"))
    await custom.get_by_label("Hạn do thường trực đặt").fill("3d, 12h")
    await custom.get_by_role("button", name="Lưu lịch nhắc").tap()
    status = phone.get_by_role("status")
    await expect(status).to_contain_text("✅ Đã lưu lịch nhắc của khối.")
    await expect(status).to_contain_text("Hạn do thường trực đặt: trước hạn 3 ngày, 12 giờ")
    await expect(phone.get_by_label("Hạn do thường trực đặt")).to_have_value("3d, 12h")
    await phone.get_by_label("Từ", exact=True).fill("22:00")
    await phone.get_by_label("Đến", exact=True).fill("06:30")
    await phone.get_by_role("button", name="Lưu giờ yên lặng").tap()
    await expect(status).to_contain_text("Giờ yên lặng: 22:00–06:30.")
    await _fits(phone)

    # An confirms the deadline in chat: the announcement goes to the units not done.
    bloc = await _locked(live, bloc_by_code(live.services, BLOC_CODE))
    async with live.lock, live.services.db.uow() as uow:
        (deadline,) = await uow.deadlines.of_bloc(bloc.id)
    await tg.tap(AN, f"dl:{deadline.id}:ack")
    await phone.goto(f"{base}/console/deadlines")
    await expect(phone.locator("#deadline-1")).to_contain_text("1/3")
    await phone.get_by_label("Nội dung thông báo").fill(NEWS)
    await phone.get_by_label(f"Đại diện 2 đơn vị chưa hoàn thành: {DEADLINE}").check()
    announce_since = _sent(live)
    await phone.get_by_role("button", name="Xem trước").tap()
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Xem trước thông báo")
    await expect(main).to_contain_text(
        "Thông báo sẽ gửi đến 1 người (2 đơn vị). Chưa có gì được gửi."
    )
    await expect(main).to_contain_text(
        "📢 Thông báo của thường trực — Khối thi đua Văn hóa - Xã hội"
    )
    await expect(main).to_contain_text(NEWS)
    await _fits(phone)
    assert _told(live, announce_since) == {}  # a preview sends nothing
    await phone.get_by_role("button", name="📢 Gửi").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        f"✅ Đã xếp gửi thông báo đến 1 người — đại diện 2 đơn vị chưa hoàn thành: {DEADLINE}"
    )
    announced = _told(live, announce_since)
    # A reload of that page (post/redirect/get): said again, nothing posted or sent again.
    assert "/console/deadlines?done=announced&n=" in phone.url
    await phone.reload()
    await expect(phone.get_by_role("status")).to_contain_text(
        f"✅ Đã xếp gửi thông báo đến 1 người — đại diện 2 đơn vị chưa hoàn thành: {DEADLINE}"
    )
    await expect(phone.get_by_role("alert")).to_have_count(0)
    assert _told(live, announce_since) == announced

    # Withdrawn: the confirm names the deadline and says what happens, then it is gone.
    await phone.locator("#deadline-1").get_by_role("link", name="Rút hạn chót").tap()
    await expect(main).to_contain_text(
        f"Hủy hạn chót «{DEADLINE}» (hạn 17:00 thứ Ba, 10/12/2024)? Các đơn vị sẽ không còn "
        "được nhắc; không hoàn tác được."
    )
    await _fits(phone)
    async with live.lock, live.services.db.uow() as uow:
        assert not (await uow.deadlines.get(deadline.id)).cancelled  # type: ignore[union-attr]
    await phone.get_by_role("button", name="🗑 Hủy hạn chót").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        f"Đã hủy hạn chót «{DEADLINE}»; các đơn vị không còn được nhắc."
    )
    await expect(phone.locator("#deadline-1")).to_have_count(0)

    # The database and what the members received.
    bloc = await _locked(live, bloc_by_code(live.services, BLOC_CODE))
    assert bloc.reminders.offsets_for(DeadlineKind.CUSTOM) == (
        timedelta(days=3),
        timedelta(hours=12),
    )
    assert (bloc.reminders.quiet.start, bloc.reminders.quiet.end) == (time(22), time(6, 30))
    async with live.lock, live.services.db.uow() as uow:
        stored = await uow.deadlines.get(deadline.id)
    assert stored is not None
    assert (stored.title, stored.cancelled) == (DEADLINE, True)
    for person in (AN, CUONG):
        assert any(DEADLINE in text for text in added_told[person.id])
    (news,) = announced[CUONG.id]
    assert NEWS in news
    assert set(announced) == {CUONG.id}  # An had confirmed: not among the units not done
    assert not any(NEWS in text for text in _told(live, since).get(AN.id, []))
    assert live.console == []


# --- the covenant -------------------------------------------------------------------------

TYPED_COVENANT = "Các đơn vị cam kết thi đua hoàn thành xuất sắc nhiệm vụ năm 2025."
FILED_COVENANT = (
    "GIAO ƯỚC THI ĐUA NĂM 2025\n"
    "1. Hoàn thành xuất sắc nhiệm vụ chính trị được giao.\n"
    "2. Đẩy mạnh cải cách hành chính và chuyển đổi số."
)


async def _covenant(live: Live) -> Covenant | None:
    bloc = await bloc_by_code(live.services, BLOC_CODE)
    async with live.services.db.uow() as uow:
        return await uow.covenants.of_year(bloc.id, bloc.year + 1)


async def test_the_covenant_set_then_replaced_by_a_file_and_signed(
    live: Live, phone: Page
) -> None:
    tg = live.tg
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, CUONG, "2")
    since = _sent(live)
    await _signed_in(live, phone)
    await phone.get_by_role("link", name="Thường trực").tap()
    await phone.get_by_role("link", name="Giao ước thi đua").tap()
    main = phone.locator("main")
    await expect(main).to_contain_text("Chưa có giao ước thi đua năm 2025.")
    await expect(main).to_contain_text(
        "Các đơn vị được báo khi lưu. Khi đã có đơn vị ký, nội dung không đổi được nữa."
    )

    # Typed, with a date to sign by.
    await phone.get_by_role("textbox", name="Nội dung giao ước").fill(TYPED_COVENANT)
    await phone.locator("#due").fill("2024-12-20T17:00")
    await phone.get_by_role("button", name="Lưu giao ước").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        "✅ Đã lưu giao ước thi đua năm 2025, hạn ký"
    )
    await expect(main.locator(".hash code")).to_have_text(text_hash(TYPED_COVENANT))
    await _fits(phone)

    # Replaced by a .txt file (nobody has signed yet): its text and its hash shown; the date
    # to sign by is the one stored, unless changed.
    await expect(phone.locator("#file-due")).to_have_value("2024-12-20T17:00")
    await phone.get_by_label("Hoặc tải lên tệp nội dung").set_input_files(
        {"name": "giao-uoc.txt", "mimeType": "text/plain", "buffer": FILED_COVENANT.encode()}
    )
    await phone.get_by_role("button", name="Tải lên và lưu").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        "✅ Đã lưu giao ước thi đua năm 2025"
    )
    await expect(main.locator("article.covenant p")).to_have_text(FILED_COVENANT.split("\n"))
    await expect(main.locator(".hash code")).to_have_text(text_hash(FILED_COVENANT))
    await expect(main).to_contain_text("Hạn ký: 17:00 thứ Sáu, 20/12/2024")
    await expect(main).to_contain_text("Đã ký: 0/3 đơn vị.")
    await _fits(phone)
    set_told = _told(live, since)

    # An reads and signs in chat, through the notice's buttons.
    found = await _locked(live, _covenant(live))
    assert found is not None
    shown = (await tg.tap(AN, f"cv:{found.id}:show"))[-1]
    (sign,) = shown.callback_data[-1]
    confirm = (await tg.tap(AN, sign))[-1]
    ok = confirm.callback_data[0][0]
    assert ok.startswith(f"cv:{found.id}:ok:")
    await tg.tap(AN, ok)

    await phone.reload()
    await expect(main).to_contain_text("Đã ký: 1/3 đơn vị.")
    signed = main.locator("table.signatures tbody tr")
    await expect(signed.nth(0)).to_contain_text("Sở Y tế")
    await expect(signed.nth(0)).to_contain_text("Trần Văn An")
    await expect(signed.nth(1)).to_contain_text("chưa ký")
    await expect(phone.get_by_role("textbox", name="Nội dung giao ước")).to_have_count(
        0
    )  # signed: final
    await _fits(phone)

    # The database and what the representatives were told.
    found = await _locked(live, _covenant(live))
    assert found is not None
    assert found.text == FILED_COVENANT
    assert found.due_at == datetime(2024, 12, 20, 10, 0, tzinfo=UTC)
    async with live.lock, live.services.db.uow() as uow:
        signatures = await uow.covenants.signatures(found.id)
    units = await _locked(live, unit_ids(live.services))
    assert list(signatures) == [units["SYT"]]
    for person in (AN, CUONG):
        notices = [t for t in set_told[person.id] if "Giao ước thi đua năm 2025" in t]
        assert len(notices) == 2, set_told[person.id]  # once per saved text
        assert all("hạn ký 17:00 thứ Sáu, 20/12/2024" in t for t in notices)
    assert live.console == []


# --- the summary, the minutes, the new year -----------------------------------------------

MOVEMENTS = "Năm 2024, các phong trào thi đua được triển khai sâu rộng ở mọi đơn vị."
CLOSING = "Xin trân trọng cảm ơn các đơn vị thành viên."
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx_text(data: bytes) -> str:
    """The paragraphs and table cells of a Word file (it opens: it is one)."""
    document = Document(io.BytesIO(data))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


async def test_the_summary_posted_the_minutes_downloaded_and_a_new_year(
    live: Live, phone: Page
) -> None:
    tg = live.tg
    await conference_setup(tg)
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    await tg.say(SECRETARY, "/ballot open 1")
    ballot = (await _locked(live, ballot_ids(live.services)))[0]
    for user in (AN, CUONG, DUNG):
        await cast(tg, user, ballot, 0)
    await tg.say(SECRETARY, "/ballot close 1")
    since = _sent(live)
    base = await _signed_in(live, phone)
    await phone.get_by_role("link", name="Thường trực").tap()
    await phone.get_by_role("link", name="Bài tổng kết và biên bản").tap()
    main = phone.locator("main")

    # The secretariat's two paragraphs, then the preview in Vietnamese and in English.
    await phone.get_by_label("Phong trào thi đua trong năm").fill(MOVEMENTS)
    await phone.get_by_label("Đoạn kết").fill(CLOSING)
    await phone.get_by_role("button", name="Lưu các đoạn văn").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        "✅ Đã lưu các đoạn văn của bài tổng kết."
    )
    vietnamese = main.locator("div[lang=vi]")
    await expect(vietnamese).to_contain_text("tổng kết công tác thi đua, khen thưởng năm 2024")
    await expect(vietnamese).to_contain_text(MOVEMENTS)
    await expect(vietnamese).to_contain_text(CLOSING)
    english = main.locator("div[lang=en]")
    await expect(english).to_be_hidden()
    await phone.get_by_text("Tiếng Anh (English)").tap()
    await expect(english).to_be_visible()
    await expect(english).to_contain_text("the 2024 emulation and commendation review")
    await _fits(phone)

    # Posted to the group after a page that says who will read it.
    await phone.get_by_role("link", name="Đăng bài tổng kết lên nhóm").tap()
    await expect(main).to_contain_text(
        "Bài dưới đây sẽ được đăng lên nhóm của khối, mọi thành viên trong nhóm đều đọc được"
    )
    await expect(main).to_contain_text(CLOSING)
    await _fits(phone)
    assert GROUP.id not in _told(live, since)
    await phone.get_by_role("button", name="✅ Đăng lên nhóm").tap()
    await expect(phone.get_by_role("status")).to_contain_text(
        "✅ Đã đăng bài tổng kết lên nhóm của khối."
    )
    await phone.reload()  # the group does not get the article a second time
    await expect(phone.get_by_role("status")).to_contain_text(
        "✅ Đã đăng bài tổng kết lên nhóm của khối."
    )
    (post,) = _told(live, since)[GROUP.id]
    assert MOVEMENTS in post
    assert post.endswith(CLOSING)

    # The minutes, the vote-count records and the memo: Word files, in both languages.
    for link, filename in (
        ("📄 Biên bản hội nghị (DOCX)", "bien-ban-hoi-nghi.docx"),
        ("📄 Biên bản kiểm phiếu (DOCX)", "bien-ban-kiem-phieu.docx"),
        ("📄 Tờ trình đề nghị khen thưởng (DOCX)", "to-trinh.docx"),
    ):
        name, data = await _download(phone, link, exact=True)
        assert name == filename
        assert data[:4] == b"PK\x03\x04"
        assert "Khối thi đua Văn hóa - Xã hội".upper() in _docx_text(data).upper(), name
    records = _docx_text((await _download(phone, "📄 Biên bản kiểm phiếu (DOCX)", True))[1])
    assert REPORT.upper() in records.upper()
    for doc in ("minutes", "records", "memo"):
        for query in ("", "?lang=en"):
            got = await phone.request.get(f"{base}/console/minutes/{doc}{query}")
            assert got.status == 200, doc
            assert got.headers["content-type"] == DOCX, doc
            assert (await got.body())[:4] == b"PK\x03\x04"

    # The new year: a page naming what happens, nothing changed until it is confirmed.
    year_since = _sent(live)
    await phone.get_by_role("link", name="Chuyển sang năm mới").tap()
    await expect(main).to_contain_text("Kết thúc năm 2024, chuyển sang năm 2025")
    await expect(main).to_contain_text("Không hoàn tác được.")
    await _fits(phone)
    assert (await _locked(live, bloc_by_code(live.services, BLOC_CODE))).year == 2024
    assert _told(live, year_since) == {}
    await phone.get_by_role("button", name="✅ Chuyển sang năm 2025").tap()
    await expect(phone.get_by_role("status")).to_contain_text("✅ Đã chuyển sang năm 2025.")
    await _fits(phone)

    # The database and what the members and the group received.
    bloc = await _locked(live, bloc_by_code(live.services, BLOC_CODE))
    assert bloc.year == 2025
    async with live.lock, live.services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, 2024)
    assert conference is not None
    assert (conference.summary_movements, conference.summary_closing) == (MOVEMENTS, CLOSING)
    told = _told(live, year_since)
    for chat in (AN.id, BINH.id, CUONG.id, DUNG.id, GIANG.id, GROUP.id):
        assert any("bước sang năm thi đua 2025" in text for text in told[chat]), chat
    assert live.console == []


# --- the audit log ------------------------------------------------------------------------


async def test_the_audit_log_in_words_and_verified(live: Live, phone: Page) -> None:
    tg = live.tg
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, CUONG, "2")
    since = _sent(live)
    await _signed_in(live, phone)
    await phone.get_by_role("link", name="Thường trực").tap()
    await phone.get_by_role("link", name="Nhật ký thay đổi").tap()
    main = phone.locator("main")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Nhật ký thay đổi")
    bloc = await _locked(live, bloc_by_code(live.services, BLOC_CODE))
    async with live.lock, live.services.db.uow() as uow:
        seq, head = await uow.audit.head(bloc.id)
        rows = len(await uow.audit.chain(bloc.id))
    assert seq == rows

    # The entries in words, the newest first; the head of the chain, whole.
    entries_ = main.locator("ol.cards > li")
    await expect(entries_).to_have_count(rows)
    await expect(entries_.last).to_contain_text(
        "Lập khối «Khối thi đua Văn hóa - Xã hội», năm 2024"
    )
    await expect(main).to_contain_text("Nhập danh sách 3 đơn vị")
    await expect(entries_.first).to_contain_text("Thành viên tham gia khối")
    await expect(entries_.first).to_contain_text("Phạm Văn Cường")
    await expect(main.locator(".hash")).to_contain_text(f"Mã đầu chuỗi (dòng số {seq}):")
    await expect(main.locator(".hash code")).to_have_text(head)
    await _fits(phone)

    # «Verify» checks the chain: whole, then — a row changed behind the bot's back — broken.
    verify = phone.get_by_role("button", name="🔎 Kiểm tra chuỗi nhật ký")
    await verify.tap()
    await expect(phone.get_by_role("status")).to_have_text(
        f"✅ Nhật ký của khối nguyên vẹn: {seq} dòng, mã đầu chuỗi {head}."
    )
    await _fits(phone)
    async with live.lock, live.services.db.uow() as uow:
        await uow.session.exec(
            update(AuditRow)
            .where(col(AuditRow.bloc_id) == bloc.id, col(AuditRow.seq) == 2)
            .values(details='{"count": 40}')
        )
        await uow.commit()
    await verify.tap()
    await expect(phone.get_by_role("status")).to_have_text(
        "⚠️ Chuỗi nhật ký bị đứt ở dòng số 2: nội dung dòng đã bị sửa."
    )

    # Reading and checking the log adds nothing to it and tells nobody.
    async with live.lock, live.services.db.uow() as uow:
        assert await uow.audit.head(bloc.id) == (seq, head)
    assert set(_told(live, since)) == {SECRETARY.id}
    assert live.console == []


# --- the bloc -----------------------------------------------------------------------------


async def test_the_bloc_officers_rotation_and_receipts_policy(live: Live, phone: Page) -> None:
    tg = live.tg
    await tg.admin_setup(units=VOTE_UNITS)
    await join(tg, AN, "1")
    await join(tg, CUONG, "2")
    since = _sent(live)
    await _signed_in(live, phone)
    await phone.get_by_role("link", name="Thường trực").tap()
    await phone.get_by_role("link", name="Khối: trưởng, phó, luân phiên").tap()
    main = phone.locator("main")
    await expect(main).to_contain_text("Đơn vị thành viên: 4; đã có đại diện: 2/4")
    await _fits(phone)
    units = await _locked(live, unit_ids(live.services))

    # The leader and the deputy: one unit cannot be both; then saved.
    await phone.get_by_label("Trưởng khối", exact=True).select_option("SVHTTDL")
    await phone.get_by_label("Phó trưởng khối").select_option("SVHTTDL")
    await phone.get_by_role("button", name="Lưu trưởng, phó").tap()
    await expect(phone.get_by_role("alert")).to_be_visible()
    assert (await _locked(live, bloc_by_code(live.services, BLOC_CODE))).leader_unit_id is None
    await phone.get_by_label("Trưởng khối", exact=True).select_option("SYT")
    await phone.get_by_label("Phó trưởng khối").select_option("SGDĐT")
    await phone.get_by_role("button", name="Lưu trưởng, phó").tap()
    await expect(phone.get_by_role("status")).to_have_text("✅ Đã lưu đơn vị trưởng, phó.")
    await expect(main).to_contain_text("Trưởng khối: Sở Y tế")
    await expect(phone.get_by_label("Trưởng khối", exact=True)).to_have_value("SYT")

    # The rotation, one unit a line.
    await phone.get_by_label("Các đơn vị theo thứ tự làm trưởng").fill(
        "STTTT\nSYT\nSGDĐT\nSVHTTDL"
    )
    await phone.get_by_role("button", name="Lưu thứ tự luân phiên").tap()
    await expect(phone.get_by_role("status")).to_have_text("✅ Đã lưu thứ tự luân phiên.")
    await expect(phone.get_by_label("Các đơn vị theo thứ tự làm trưởng")).to_have_value(
        "STTTT\nSYT\nSGDĐT\nSVHTTDL"
    )
    await _fits(phone)

    # Publishing receipts: a page says what it makes possible before it is turned on.
    await phone.get_by_role("link", name="Bật công bố «mã biên nhận → lựa chọn»…").tap()
    await expect(main).to_contain_text("Công bố mã biên nhận kèm lựa chọn?")
    await expect(main).to_contain_text("chứng minh được mình đã bầu ai")
    await expect(main).to_contain_text("Hiện tại: không công bố.")
    await _fits(phone)
    assert not (await _locked(live, bloc_by_code(live.services, BLOC_CODE))).publish_receipts
    await phone.get_by_role("button", name="⚠️ Tôi hiểu, công bố").tap()
    await expect(phone.get_by_role("status")).to_contain_text("Đã bật: sau khi kiểm phiếu kín")
    assert (await _locked(live, bloc_by_code(live.services, BLOC_CODE))).publish_receipts
    await phone.get_by_role("button", name="Tắt công bố mã biên nhận").tap()
    await expect(phone.get_by_role("status")).to_contain_text("Đã tắt công bố mã biên nhận")

    # The database; none of this is announced to the members.
    bloc = await _locked(live, bloc_by_code(live.services, BLOC_CODE))
    assert (bloc.leader_unit_id, bloc.deputy_unit_id) == (units["SYT"], units["SGDĐT"])
    assert not bloc.publish_receipts
    stored = await _locked(live, units_of(live.services, bloc))
    turns = sorted((u for u in stored if u.rotation_order is not None), key=_turn)
    assert [u.short_name for u in turns] == ["STTTT", "SYT", "SGDĐT", "SVHTTDL"]
    assert set(_told(live, since)) == {SECRETARY.id}
    assert live.console == []


def _turn(unit: Unit) -> int:
    return unit.rotation_order or 0
