"""The award dossier (issue 20): `/minutes collect` asks the units proposed at the counted award
ballots for their achievement report — a report period owed by those units only, uploaded
through the report walk with no scoring, reminded like any deadline — and `/minutes dossier`
sends one ZIP: the contents list first, the memo, the minutes, the vote-count records, the
score table and each proposed unit's report, the missing ones marked."""

from __future__ import annotations

import io
import random
import zipfile

import openpyxl
import pytest
from teremok import MockCallbackQuery, MockMessageText

from bot.fakes.clock import FakeClock
from bot.services import dossier, reports
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    CUONG,
    DUNG,
    GIANG,
    OPEN_PERIOD,
    TABLE_EXAMPLE,
    actor_of,
    bloc_by_code,
    conference_setup,
    dispatch,
    documents,
    draft_id,
    replies_of,
    submitted,
)
from tests.handlers.test_minutes import HOSTILE, MINUTES_UNITS, _vote
from tests.handlers.test_review import review_ask
from tests.scheduler.test_reminders import Recording, local, ticker

TITLE = "Báo cáo thành tích năm 2024"
SYT, SGD, SVH = "Sở Y tế", "Sở Giáo dục và Đào tạo", "Sở Văn hóa, Thể thao và Du lịch"
REFUSED = "Chỉ thường trực khối mới dùng được lệnh này."
ZIP_NAMES = [
    "00_Muc_luc.txt",
    "01_To_trinh.docx",
    "02_Bien_ban_hoi_nghi.docx",
    "03_Bien_ban_kiem_phieu.docx",
    "04_Bang_diem.xlsx",
]


async def proposals(tg: Harness, services: Services) -> None:
    """The conference counted: Sở GD&ĐT proposed for the Government's flag, the unit called
    `<b>Sở & Ban</b>` for the provincial flag, Sở Y tế for the chair's certificate; Sở Văn
    hóa (Dung's) for nothing. A scoring table and the year-end period give the score table."""
    await conference_setup(tg, units=MINUTES_UNITS)
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)
    await _vote(services, tg, 1, {})
    await _vote(services, tg, 2, {"SYT": "SGD", "SVH": "SGD", "SB": "SGD"})  # gov flag
    await _vote(services, tg, 3, {"SYT": "SB", "SGD": "SB", "SVH": "SB"})  # provincial flag
    await _vote(services, tg, 5, {"SGD": "SYT", "SVH": "SYT", "SB": "SYT"})  # chair's cert


async def achievement_period(services: Services) -> int:
    bloc = await bloc_by_code(services, "KTĐVHXH")
    async with services.db.uow() as uow:
        periods = await uow.reports.periods(bloc.id)
    return periods[-1].id


async def dossier_of(tg: Harness) -> tuple[str, str, zipfile.ZipFile]:
    sent = documents(await dispatch(tg, MockMessageText("/minutes dossier", user=SECRETARY)))
    assert len(sent) == 1
    return sent[0].name, sent[0].caption or "", zipfile.ZipFile(io.BytesIO(sent[0].data))


async def sent_report(services: Services, period: int) -> None:
    """Sở Y tế's achievement report sent beforehand through the services (the walk is tested
    in chat above): the file, then straight to the confirm — there is nothing to score."""
    actor = await actor_of(services, AN)
    step = await reports.start_report(services, actor, period_id=period)
    assert isinstance(step, reports.AskFile), step
    draft = step.ctx.draft.id
    attached = await reports.attach_file(
        services, actor, draft_id=draft, filename="BCTT.pdf", data=b"%PDF-1.7 thanh tich"
    )
    assert isinstance(attached, reports.Summary), attached
    assert isinstance(await reports.confirm(services, actor, draft_id=draft), reports.Receipt)


async def test_the_dossier_lists_what_was_collected_and_marks_what_is_missing(
    tg: Harness, services: Services
) -> None:
    await proposals(tg, services)
    # A representative is refused both, and nothing is opened.
    assert (await tg.say(DUNG, "/minutes collect 27/12/2024 17:00"))[-1].text == REFUSED
    assert (await tg.say(AN, "/minutes dossier"))[-1].text == REFUSED

    # Before the collection: the three reports are missing, and the caption says how to ask.
    name, caption, archive = await dossier_of(tg)
    assert name == "Ho_so_khen_thuong_KTDVHXH_2024.zip"
    missing = [
        "05_Bao_cao_thanh_tich_SGD_DT",
        "06_Bao_cao_thanh_tich_SB",
        "07_Bao_cao_thanh_tich_SYT",
    ]
    assert archive.namelist() == ZIP_NAMES  # no file for what was not sent
    assert caption == (
        "🗂 Hồ sơ đề nghị khen thưởng năm 2024: mục lục và 7 mục, có 4.\n"
        f"Còn thiếu 3: 05 báo cáo thành tích của {SGD}; 06 báo cáo thành tích của "
        f"&lt;b&gt;Sở &amp; Ban&lt;/b&gt;; 07 báo cáo thành tích của {SYT} (mục lục ghi "
        "«Chưa nộp»). Chưa mở thu báo cáo thành tích: <code>/minutes collect HẠN</code>."
    )
    assert all(m not in " ".join(archive.namelist()) for m in missing)

    # The collection: only the proposed units' representatives are told (not Dung's unit).
    replies = await tg.say(SECRETARY, "/minutes collect 27/12/2024 17:00")
    told = {r.chat_id for r in replies if r.chat_id != SECRETARY.id}
    assert told == {AN.id, BINH.id, CUONG.id, GIANG.id}
    assert [r.text for r in replies if r.chat_id == SECRETARY.id] == [
        f"✅ Đã mở kỳ số 2: <b>{TITLE}</b>\n"
        "Hạn nộp: 17:00 27/12/2024; nộp muộn vẫn nhận và được ghi là muộn. Tệp nhận: "
        "PDF, DOC, DOCX, XLS, XLSX, ODT, tối đa 20 MB.\n"
        f"Đơn vị phải nộp (3): {SGD}; &lt;b&gt;Sở &amp; Ban&lt;/b&gt;; {SYT}. Đại diện các "
        "đơn vị này đã được thông báo; đơn vị chưa nộp được nhắc hạn.\n"
        "Tình hình nộp: /status 2. Hồ sơ: /minutes dossier."
    ]
    notice = next(r for r in replies if r.chat_id == AN.id)
    assert notice.text.startswith(
        "🏅 Khối thi đua Văn hóa - Xã hội: đơn vị được đề nghị khen thưởng năm 2024. Đề nghị "
        f"gửi <b>báo cáo thành tích</b> của đơn vị («{TITLE}») trước 17:00 27/12/2024"
    )
    again = await tg.say(SECRETARY, "/minutes collect 28/12/2024 17:00")
    assert again[-1].text.startswith(f"Đã mở thu báo cáo thành tích: kỳ số 2 «{TITLE}».")

    # A unit no ballot proposed is refused, clearly, even with the period's own button.
    period = await achievement_period(services)
    refused = await tg.tap(DUNG, f"rp:{period}:0")
    assert refused[-1].text == (
        f"«{TITLE}» chỉ dành cho các đơn vị được đề nghị khen thưởng tại hội nghị. {SVH} "
        "không có trong danh sách đề nghị nên không phải nộp báo cáo thành tích."
    )
    # … and /report takes it straight to the one period it owes (no choice offered).
    assert (await tg.say(DUNG, "/report"))[-1].text.startswith(
        "📋 <b>Báo cáo tổng kết năm 2024</b>"
    )

    # Sở Y tế sends its report in chat: a file, no scoring, a receipt; Bình is told.
    asked = await tg.tap(AN, f"rp:{period}:0")
    assert "gửi báo cáo thành tích (PDF, DOC, DOCX, XLS, XLSX, ODT, tối đa 20 MB)" in (
        asked[-1].text
    )
    report = b"%PDF-1.7 bao cao thanh tich So Y te"
    summary = await tg.send_file(AN, "Báo cáo thành tích SYT.pdf", report)
    assert "Báo cáo thành tích: chỉ gửi tệp, không chấm điểm." in summary[-1].text
    assert "Tổng" not in summary[-1].text
    draft = draft_id(summary)
    receipt = await tg.tap(AN, f"wk:{draft}:confirm:0")
    texts = {r.chat_id: r.text for r in receipt}
    assert texts[AN.id].startswith("✅ <b>Biên nhận báo cáo</b>\nKỳ: " + TITLE)
    assert "điểm" not in texts[AN.id]
    assert texts[BINH.id] == (f"📋 Trần Văn An đã nộp «{TITLE}» của <b>{SYT}</b>: phiên bản 1.")

    # The period's status lists the proposed units only, with no score.
    status = (await tg.say(SECRETARY, "/status 2"))[0].text
    assert f"<b>{TITLE}</b> — hạn 17:00 27/12/2024\nĐã nộp 1/3:" in status
    assert "1. SYT — ✅ v1\n" in status
    assert "SVH" not in status
    assert "điểm" not in status

    # The dossier now holds Sở Y tế's report as sent; the other two are still marked missing.
    _, caption, archive = await dossier_of(tg)
    assert archive.namelist() == [*ZIP_NAMES, "07_Bao_cao_thanh_tich_SYT.pdf"]
    assert archive.read("07_Bao_cao_thanh_tich_SYT.pdf") == report
    assert caption.startswith(
        "🗂 Hồ sơ đề nghị khen thưởng năm 2024: mục lục và 7 mục, có 5.\nCòn thiếu 2: 05 "
    )
    assert "/minutes collect" not in caption
    contents = archive.read("00_Muc_luc.txt").decode("utf-8-sig").split("\r\n")
    assert contents == [
        "Khối thi đua Văn hóa - Xã hội",
        "HỒ SƠ ĐỀ NGHỊ KHEN THƯỞNG NĂM 2024",
        "MỤC LỤC",
        "",
        "01. Tờ trình đề nghị khen thưởng",
        "    Tệp: 01_To_trinh.docx",
        "02. Biên bản hội nghị",
        "    Tệp: 02_Bien_ban_hoi_nghi.docx",
        "03. Các biên bản kiểm phiếu",
        "    Tệp: 03_Bien_ban_kiem_phieu.docx",
        "04. Bảng điểm tổng hợp",
        "    Tệp: 04_Bang_diem.xlsx",
        f"05. Báo cáo thành tích: {SGD} (đề nghị Cờ thi đua của Chính phủ)",
        "    CHƯA NỘP",
        f"06. Báo cáo thành tích: {HOSTILE} (đề nghị Cờ thi đua của UBND tỉnh)",
        "    CHƯA NỘP",
        f"07. Báo cáo thành tích: {SYT} (đề nghị Bằng khen của Chủ tịch UBND tỉnh)",
        "    Tệp: 07_Bao_cao_thanh_tich_SYT.pdf (phiên bản 1, nộp lúc 08:00 25/11/2024)",
        "",
        "Có 5/7 mục.",
    ]


async def test_reminders_reach_only_proposed_units_that_have_not_sent_one(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await proposals(tg, services)
    await tg.say(SECRETARY, "/minutes collect 27/12/2024 17:00")
    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(20, 17))  # 7 days before; the year-end period's deadline has passed

    def reminder(days: int, unit: str) -> str:
        return (
            f"⏰ <b>Nhắc hạn</b> — {unit}\nBáo cáo «{TITLE}»: đơn vị chưa nộp.\n"
            f"Hạn chót: 17:00 thứ Sáu, 27/12/2024 (còn {days} ngày)."
        )

    hostile = "&lt;b&gt;Sở &amp; Ban&lt;/b&gt;"
    await tick.tick()
    assert sent.take() == [
        (AN.id, reminder(7, SYT)),
        (BINH.id, reminder(7, SYT)),
        (CUONG.id, reminder(7, SGD)),
        (GIANG.id, reminder(7, hostile)),
    ]
    await sent_report(services, await achievement_period(services))
    clock.set(local(24, 17))
    await tick.tick()
    assert sent.take() == [(CUONG.id, reminder(3, SGD)), (GIANG.id, reminder(3, hostile))]


async def test_a_dossier_over_the_limit_is_refused_with_the_sizes_stated(
    tg: Harness, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ZIP must fit Telegram's upload: over the limit it is refused whole (never cut),
    sizes stated, and the reports pointed to through the period's own export in parts."""
    await proposals(tg, services)
    await tg.say(SECRETARY, "/minutes collect 27/12/2024 17:00")
    actor = await actor_of(services, AN)
    step = await reports.start_report(
        services, actor, period_id=await achievement_period(services)
    )
    assert isinstance(step, reports.AskFile), step
    big = b"%PDF-1.7\n" + random.Random(20).randbytes(3 * 1024 * 1024)  # does not deflate
    await reports.attach_file(
        services, actor, draft_id=step.ctx.draft.id, filename="B.pdf", data=big
    )
    assert isinstance(
        await reports.confirm(services, actor, draft_id=step.ctx.draft.id), reports.Receipt
    )
    monkeypatch.setattr(dossier, "DOSSIER_LIMIT", 2 * 1024 * 1024)
    replies = await dispatch(tg, MockMessageText("/minutes dossier", user=SECRETARY))
    assert documents(replies) == []
    assert replies_of(replies)[-1].text == (
        "Hồ sơ quá lớn để gửi thành một tệp: khoảng 4 MB, tối đa 2 MB. Hãy tải các báo cáo "
        "thành tích riêng (chia thành nhiều phần) ở /export 2, và tờ trình, biên bản ở /minutes."
    )
    # … where they are: the proposed units' sheet (who sent one, no score columns), the ZIP.
    sheet = documents(await dispatch(tg, MockMessageText("/export 2", user=SECRETARY)))
    worksheet = openpyxl.load_workbook(io.BytesIO(sheet[0].data)).worksheets[0]
    rows = list(worksheet.iter_rows(values_only=True))
    assert [r[1] for r in rows[3:]] == [SYT, SGD, HOSTILE]
    assert rows[2][:5] == ("STT", "Đơn vị", "Tên viết tắt", "Trạng thái", "Phiên bản")
    assert len(rows[2]) == 9  # then the totals and the rank: no item's column
    parts = documents(
        await tg.dispatch(
            MockCallbackQuery(
                data="ex:2:zip", user=SECRETARY, message=MockMessageText("…", user=SECRETARY)
            )
        )
    )
    assert zipfile.ZipFile(io.BytesIO(parts[0].data)).namelist() == ["01-SYT-v1.pdf"]


async def test_review_without_a_number_still_takes_the_year_end_period(
    tg: Harness, services: Services
) -> None:
    """The achievement period is the latest once opened; `/review UNIT` must not land on it
    (nothing to score there) instead of the year-end scores the secretariat reviews."""
    await proposals(tg, services)
    await submitted(services, AN)  # Sở Y tế's year-end report and scores
    await tg.say(SECRETARY, "/minutes collect 27/12/2024 17:00")
    replies = await tg.say(SECRETARY, "/review SYT")
    assert [r.text for r in replies] == [review_ask(0, "10")]


async def test_the_dossier_holds_each_documents_pdf_beside_its_docx(
    tg: Harness, services: Services
) -> None:
    """Issue 20, point 9: where LibreOffice makes PDFs, the dossier holds each document's PDF
    for digital signing beside its DOCX, under the same number; a PDF that could not be made
    leaves its DOCX alone (nothing else is lost)."""
    from tests.handlers.test_minutes_pdf import FakePdf

    await proposals(tg, services)
    services.pdf = FakePdf()
    _, _, archive = await dossier_of(tg)
    assert archive.namelist() == [
        "00_Muc_luc.txt",
        "01_To_trinh.docx",
        "01_To_trinh.pdf",
        "02_Bien_ban_hoi_nghi.docx",
        "02_Bien_ban_hoi_nghi.pdf",
        "03_Bien_ban_kiem_phieu.docx",
        "03_Bien_ban_kiem_phieu.pdf",
        "04_Bang_diem.xlsx",
    ]
    memo = archive.read("01_To_trinh.docx")
    assert archive.read("01_To_trinh.pdf") == await FakePdf().convert(memo)  # its own PDF
    contents = archive.read("00_Muc_luc.txt").decode("utf-8-sig")
    assert "01_To_trinh.docx" in contents
    assert "01_To_trinh.pdf" in contents

    services.pdf = FakePdf(failing=(memo,))
    _, _, archive = await dossier_of(tg)
    assert "01_To_trinh.docx" in archive.namelist()
    assert "01_To_trinh.pdf" not in archive.namelist()
    assert "02_Bien_ban_hoi_nghi.pdf" in archive.namelist()
