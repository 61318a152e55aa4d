"""The secretariat's side of reports: status, review, return for correction, export, archive."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from datetime import timedelta
from functools import partial

import pytest
from aiogram.methods import SendDocument
from openpyxl import load_workbook

from bot.fakes.clock import FakeClock
from bot.services.app import Services
from bot.services.exports import ArchivePart, archive_plan
from handlers.telegram import reports as reports_handlers
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    BLOC,
    CUONG,
    ITEMS,
    PERIOD_TITLE,
    SYT_VALUES,
    documents,
    docx_bytes,
    draft_id,
    entries,
    limit_line,
    plain,
    problem_line,
    raw_say,
    raw_tap,
    replies_of,
    report_setup,
    reviewed,
    score_all,
    submitted,
    versions,
)

S = SECRETARY.id
SGDDT_DOCX = docx_bytes("Báo cáo tổng kết năm 2024 của Sở GD&ĐT")
NOT_SECRETARIAT = "Chỉ thường trực khối mới dùng được lệnh này."
UNKNOWN_MESSAGE = (
    "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia."
)
ACTIONS = (
    "Thẩm định: /review ĐƠN_VỊ · Trả lại: /return ĐƠN_VỊ; hạn mới; ý kiến · "
    "Nộp thay: /report ĐƠN_VỊ"
)
LATE_REFUSED = (
    f"Kỳ <b>{PERIOD_TITLE}</b> đã hết hạn lúc 17:00 15/12/2024 và không nhận báo cáo muộn. "
    "Hãy liên hệ thường trực khối."
)
# Sở GD&ĐT's self-score: criteria 95, bonus 5, penalty 0: 100 points.
SGDDT_VALUES = (1000, 2000, 1000, 1000, 500, 1000, 1000, 1000, 800, 200, 300, 250, 0, 0)
# The secretariat's review of Sở Y tế (self 102): 1.2 → 18, 2.2 → 7, T1 → 0; 96,5 points.
SYT_REVIEWED = (1000, 1800, 1000, 700, 500, 1000, 1000, 1000, 1000, 500, 0, 250, 0, 100)


def status(*lines: str, on_time: int, late: int = 0, returned: int = 0) -> str:
    missing = 3 - len(lines)
    rest = [
        f"{n}. {short} — ❌ chưa nộp"
        for n, short in enumerate(("SYT", "SGDĐT", "SVHTTDL"), start=1)
        if n > len(lines)
    ]
    return "\n".join(
        [
            f"<b>{PERIOD_TITLE}</b> — hạn 17:00 15/12/2024",
            f"Đã nộp {len(lines)}/3: đúng hạn {on_time}, muộn {late}, trả lại {returned}, "
            f"chưa nộp {missing}",
            *lines,
            *rest,
        ]
    )


async def check_status(tg: Harness, expected: str) -> None:
    replies = await tg.say(SECRETARY, "/status")
    assert [(r.chat_id, r.text) for r in replies] == [(S, expected), (S, ACTIONS)]
    assert replies[0].buttons == []
    assert replies[1].buttons == [["📊 Bảng điểm Excel", "📦 Tải các báo cáo"]]
    assert replies[1].callback_data == [["ex:1:xlsx", "ex:1:zip"]]


async def test_status_per_unit(tg: Harness, clock: FakeClock) -> None:
    await report_setup(tg)
    await check_status(tg, status(on_time=0))

    await submitted(tg.services, AN)
    clock.advance(timedelta(days=21))  # past the deadline: accepted, marked late
    await submitted(tg.services, CUONG, "sgddt.docx", SGDDT_DOCX, SGDDT_VALUES)

    await check_status(
        tg,
        status("1. SYT — ✅ v1, 102 điểm", "2. SGDĐT — ⏰ muộn v1, 100 điểm", on_time=1, late=1),
    )
    replies = await tg.say(SECRETARY, "/status 1")  # the period by its number
    assert replies[0].text.splitlines()[2:4] == [
        "1. SYT — ✅ v1, 102 điểm",
        "2. SGDĐT — ⏰ muộn v1, 100 điểm",
    ]
    assert plain(await tg.say(SECRETARY, "/status 3")) == [
        (S, "Không có kỳ báo cáo «3». Xem danh sách: /period")
    ]
    assert plain(await tg.say(AN, "/status")) == [(AN.id, NOT_SECRETARIAT)]


# --- review ----------------------------------------------------------------------------------


def review_ask(
    index: int, self_value: str, *, problem: str | None = None, current: str | None = None
) -> str:
    code, title, top, group = ITEMS[index]
    text = problem_line(problem, top)
    text += f"Thẩm định Sở Y tế — Mục {index + 1}/14" + (f" · {group}" if group else "")
    text += f"\n<b>{code}</b> {title}\n{limit_line(code, top)}\nĐơn vị tự chấm: {self_value}\n"
    if current is not None:
        text += f"Đã nhập: {current}\n"
    return text + "Chọn hoặc gõ số điểm (ví dụ 9,5):"


REVIEW_SUMMARY = (
    f"Kết quả thẩm định <b>Sở Y tế</b> — {PERIOD_TITLE}\n"
    "1.1. Ban hành kịp thời chương trình, kế hoạch công...: 10\n"
    "1.2. Thực hiện nhiệm vụ chuyên môn: hoàn thành và...: 18\n"
    "2.1. Công tác cải cách hành chính; kết quả Chỉ số...: 10\n"
    "2.2. Giải quyết thủ tục hành chính đúng hạn; tiếp...: 7\n"
    "2.3. Ứng dụng công nghệ thông tin, chuyển đổi số và...: 5\n"
    "3.1. Tổ chức phát động, triển khai các phong trào...: 10\n"
    "3.2. Tham gia đầy đủ các hoạt động của Khối; thực...: 10\n"
    "4.1. Xây dựng tổ chức Đảng trong sạch, vững mạnh;...: 10\n"
    "4.2. Thực hành tiết kiệm, chống lãng phí; phòng,...: 10\n"
    "4.3. Thực hiện quy chế dân chủ ở cơ sở; chăm lo đời...: 5\n"
    "T1. Có sáng kiến, mô hình mới, cách làm hay được...: 0 (thưởng)\n"
    "T2. Được Thủ tướng Chính phủ, bộ, ngành Trung ương...: 2,5 (thưởng)\n"
    "P1. Có cán bộ, công chức, viên chức bị xử lý kỷ...: 0 (trừ)\n"
    "P2. Chậm gửi hoặc không gửi báo cáo, hồ sơ theo...: 1 (trừ)\n"
    "Tiêu chí: 95; thưởng: 2,5; trừ: 1\n"
    "<b>Tổng: 96,5/105 điểm</b>"
)
REVIEWED_NOTICE = (
    f"📋 Thường trực đã thẩm định «{PERIOD_TITLE}» của <b>Sở Y tế</b> (phiên bản 1): "
    "96,5 điểm (tự chấm 102). Điểm thẩm định được dùng để xếp hạng."
)


async def test_review_walk_keeps_or_changes_each_value(tg: Harness, services: Services) -> None:
    await report_setup(tg)
    await submitted(services, AN)
    await submitted(services, CUONG, "sgddt.docx", SGDDT_DOCX, SGDDT_VALUES)

    replies = await tg.say(SECRETARY, "/review SYT")

    draft = draft_id(replies)
    assert [r.text for r in replies] == [review_ask(0, "10")]
    # The unit's own value comes first (here it is also the maximum, so it is not repeated).
    assert replies[0].buttons == [["10", "5", "0"], ["✖ Hủy"]]
    assert replies[0].callback_data == [
        [f"sc:{draft}:0:1000", f"sc:{draft}:0:500", f"sc:{draft}:0:0"],
        [f"wk:{draft}:cancel:0"],
    ]
    replies = await tg.tap(SECRETARY, f"sc:{draft}:0:1000")  # keep the unit's 10
    assert [r.text for r in replies] == [review_ask(1, "20")]
    replies = await tg.say(SECRETARY, "25")
    assert [r.text for r in replies] == [review_ask(1, "20", problem="Điểm vượt quá mức tối đa")]
    replies = await tg.say(SECRETARY, "18")
    assert [r.text for r in replies] == [review_ask(2, "10")]
    await tg.tap(SECRETARY, f"sc:{draft}:2:1000")
    replies = await tg.tap(SECRETARY, f"sc:{draft}:3:700")  # 2.2: the unit said 8
    assert [r.text for r in replies] == [review_ask(4, "5")]
    replies = await tg.tap(SECRETARY, f"wk:{draft}:back:4")
    assert [r.text for r in replies] == [review_ask(3, "8", current="7")]
    # Where the unit's value is not a usual one, it is the first button: "keep 8".
    assert replies[0].buttons == [["8", "10", "5", "0"], ["◀ Quay lại", "✖ Hủy"]]
    assert replies[0].callback_data[0] == [
        f"sc:{draft}:3:800",
        f"sc:{draft}:3:1000",
        f"sc:{draft}:3:500",
        f"sc:{draft}:3:0",
    ]
    await tg.tap(SECRETARY, f"sc:{draft}:3:700")
    replies = await score_all(tg, SECRETARY, draft, SYT_REVIEWED)

    assert [r.text for r in replies] == [REVIEW_SUMMARY]
    assert replies[0].buttons == [["✅ Lưu kết quả thẩm định"], ["◀ Quay lại", "✖ Hủy"]]
    assert replies[0].callback_data == [
        [f"wk:{draft}:confirm:0"],
        [f"wk:{draft}:back:14", f"wk:{draft}:cancel:0"],
    ]

    replies = await tg.tap(SECRETARY, f"wk:{draft}:confirm:0")

    assert plain(replies) == [
        (
            S,
            f"✅ Đã lưu kết quả thẩm định <b>Sở Y tế</b> ({PERIOD_TITLE}, phiên bản 1): 96,5 điểm "
            "(đơn vị tự chấm 102). Đơn vị đã được thông báo.",
        ),
        (AN.id, REVIEWED_NOTICE),
        (BINH.id, REVIEWED_NOTICE),
    ]
    (v1,) = await versions(services, "SYT")
    assert (v1.self_total_cp, v1.reviewed_total_cp, v1.total_cp) == (10200, 9650, 9650)
    reviewed = await entries(services, v1, "reviewed")
    assert (reviewed["1.2"], reviewed["2.2"], reviewed["T1"], len(reviewed)) == (1800, 700, 0, 14)
    assert (await entries(services, v1, "self"))["1.2"] == 2000  # the unit's own score stays
    # The reviewed total counts: Sở GD&ĐT (100) now ranks above Sở Y tế (self 102).
    await check_status(
        tg,
        status("1. SYT — ✅ v1, 96,5 điểm (thẩm định)", "2. SGDĐT — ✅ v1, 100 điểm", on_time=2),
    )
    ranks = await export_rows(tg)
    assert [(row[2], row[-2], row[-1]) for row in ranks] == [
        ("SYT", 96.5, 2),
        ("SGDĐT", 100, 1),
        ("SVHTTDL", None, None),
    ]


async def test_review_refusals_and_a_newer_version(tg: Harness, services: Services) -> None:
    await report_setup(tg)
    await submitted(services, AN)
    refusals = {
        "/review": "Cách dùng: /review ĐƠN_VỊ — thẩm định điểm của bản nộp mới nhất.",
        "/review SVHTTDL": "Sở Văn hóa, Thể thao và Du lịch chưa nộp báo cáo kỳ này.",
        "/review Sở Nội vụ": "Không tìm thấy đơn vị «Sở Nội vụ» trong khối. Xem danh sách: /units",
    }
    for command, refusal in refusals.items():
        assert plain(await tg.say(SECRETARY, command)) == [(S, refusal)], command
    assert plain(await tg.say(AN, "/review SYT")) == [(AN.id, NOT_SECRETARIAT)]

    draft = draft_id(await tg.say(SECRETARY, "/review SYT"))
    await score_all(tg, SECRETARY, draft, SYT_REVIEWED)
    await submitted(services, BINH, "v2.pdf", b"%PDF v2")  # version 2 arrives meanwhile

    replies = await tg.tap(SECRETARY, f"wk:{draft}:confirm:0")

    assert plain(replies) == [(S, "Đơn vị vừa nộp phiên bản mới; hãy thẩm định lại bằng /review.")]
    assert [v.reviewed_total_cp for v in await versions(services, "SYT")] == [None, None]
    # That review is over: a number typed now is no answer.
    assert plain(await tg.say(SECRETARY, "10")) == [(S, UNKNOWN_MESSAGE)]
    # A new review is of version 2.
    replies = await tg.say(SECRETARY, "/review SYT")
    assert replies[0].text.startswith("Thẩm định Sở Y tế — Mục 1/14")


# --- return for correction -----------------------------------------------------------------

RETURNED_NOTICE = (
    f"↩️ «{PERIOD_TITLE}» của <b>Sở Y tế</b> (phiên bản 1) được trả lại để sửa.\n"
    "Ý kiến của thường trực: «Thiếu phụ lục số liệu»\n"
    "Đơn vị nộp lại trước 17:00 20/12/2024 bằng lệnh /report."
)


async def test_return_and_resubmit_after_a_refuse_deadline(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg, policy="từ chối")
    await submitted(services, AN)
    clock.advance(timedelta(days=21))  # 08:00 on 16/12/2024: past the deadline
    assert plain(await tg.say(AN, "/report")) == [(AN.id, LATE_REFUSED)]

    replies = await tg.say(SECRETARY, "/return SYT; 20/12/2024 17:00; Thiếu phụ lục số liệu")

    assert plain(replies) == [
        (
            S,
            "↩️ Đã trả lại báo cáo của <b>Sở Y tế</b> (phiên bản 1); đơn vị được nộp lại đến "
            "17:00 20/12/2024 và đã được thông báo.",
        ),
        (AN.id, RETURNED_NOTICE),
        (BINH.id, RETURNED_NOTICE),
    ]
    (v1,) = await versions(services, "SYT")
    assert (v1.return_comment, v1.resubmit_until and v1.resubmit_until.isoformat()) == (
        "Thiếu phụ lục số liệu",
        "2024-12-20T10:00:00+00:00",
    )
    await check_status(tg, status("1. SYT — ↩️ trả lại v1, 102 điểm", on_time=0, returned=1))

    replies = await tg.say(AN, "/report")
    draft = draft_id(replies)
    assert [r.text for r in replies] == [
        f"📋 <b>{PERIOD_TITLE}</b> — Sở Y tế\n"
        "Hạn chót: 17:00 15/12/2024\n"
        "Đã nộp: phiên bản 1 lúc 08:00 25/11/2024, 102 điểm; <b>đã bị trả lại để sửa</b>: "
        "«Thiếu phụ lục số liệu», nộp lại trước 17:00 20/12/2024. "
        "Bản nộp mới sẽ là phiên bản 2.\n"
        "Bước 1: gửi tệp báo cáo (PDF, DOC, DOCX, XLS, XLSX, ODT, tối đa 20 MB) dưới dạng tệp "
        "đính kèm.\nBước 2: tự chấm điểm theo 14 mục của bảng chấm điểm."
    ]
    data = b"%PDF-1.7 co phu luc so lieu"
    await tg.send_file(AN, "Báo cáo SYT (có phụ lục).pdf", data)
    await score_all(tg, AN, draft)
    replies = await tg.tap(AN, f"wk:{draft}:confirm:0")

    assert plain(replies) == [
        (
            AN.id,
            "✅ <b>Biên nhận báo cáo</b>\n"
            f"Kỳ: {PERIOD_TITLE}\n"
            "Đơn vị: Sở Y tế\n"
            "Phiên bản: 2\n"
            f"Tệp: Báo cáo SYT (có phụ lục).pdf ({len(data)} byte)\n"
            f"SHA-256: <code>{hashlib.sha256(data).hexdigest()}</code>\n"
            "Tổng điểm tự chấm: 102/105\n"
            "Thời gian: 08:00 16/12/2024",
        ),
        (
            BINH.id,
            f"📋 Trần Văn An đã nộp «{PERIOD_TITLE}» của <b>Sở Y tế</b>: phiên bản 2, "
            "tự chấm 102 điểm.",
        ),
    ]
    assert [(v.version, v.late) for v in await versions(services, "SYT")] == [
        (1, False),
        (2, False),
    ]
    await check_status(tg, status("1. SYT — ✅ v2, 102 điểm", on_time=1))
    # Once the new date has passed, the period's policy applies again.
    clock.advance(timedelta(days=5))
    assert plain(await tg.say(AN, "/report")) == [(AN.id, LATE_REFUSED)]


async def test_return_refusals(tg: Harness, services: Services) -> None:
    await report_setup(tg)
    await submitted(services, AN)
    refusals = {
        "/return SYT": (
            "Cách dùng: <code>/return ĐƠN_VỊ; hạn nộp lại; ý kiến</code>, ví dụ "
            "<code>/return SYT; 18/12/2022 17:00; Thiếu phụ lục số liệu</code>"
        ),
        "/return SYT; 20/12/2024 17:00;  ": "Hãy ghi ý kiến để đơn vị biết cần sửa gì.",
        "/return SYT; tuần sau; Thiếu phụ lục": (
            "Không hiểu thời hạn «tuần sau». Nhập theo dạng 15/12/2022 17:00."
        ),
        "/return SYT; 24/11/2024 17:00; Thiếu phụ lục": (
            "Thời hạn «24/11/2024 17:00» đã qua hoặc không muộn hơn hạn hiện tại."
        ),
        "/return SVHTTDL; 20/12/2024 17:00; Thiếu phụ lục": (
            "Sở Văn hóa, Thể thao và Du lịch chưa nộp báo cáo kỳ này."
        ),
        "/return Sở Nội vụ; 20/12/2024 17:00; Thiếu phụ lục": (
            "Không tìm thấy đơn vị «Sở Nội vụ» trong khối. Xem danh sách: /units"
        ),
    }
    for command, refusal in refusals.items():
        assert plain(await tg.say(SECRETARY, command)) == [(S, refusal)], command
    assert plain(await tg.say(AN, "/return SYT; 20/12/2024 17:00; Tự trả")) == [
        (AN.id, NOT_SECRETARIAT)
    ]
    # A comment over 1000 characters is refused whole, never cut short.
    long = "Thiếu phụ lục. " * 67  # 1004 characters once trimmed
    assert plain(await tg.say(SECRETARY, f"/return SYT; 20/12/2024 17:00; {long}")) == [
        (
            S,
            "Ý kiến dài 1.004 ký tự, quá mức 1.000 ký tự. Hãy viết ngắn gọn hơn (có thể gửi "
            "tài liệu chi tiết riêng cho đơn vị).",
        )
    ]
    assert [v.returned_at for v in await versions(services, "SYT")] == [None]
    # 1000 characters are stored and sent whole.
    exact = ("x" * 99 + " ") * 9 + "y" * 100
    replies = await tg.say(SECRETARY, f"/return SYT; 20/12/2024 17:00; {exact}")
    assert [r.chat_id for r in replies] == [S, AN.id, BINH.id]
    assert f"«{exact}»" in replies[1].text
    assert [v.return_comment for v in await versions(services, "SYT")] == [exact]


async def test_the_correction_window_outlasts_a_first_resubmission(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    """Returned until the 20th: a correction sent on the 16th does not use the window up; a
    second one on the 18th is still on time, under a period that refuses late reports."""
    await report_setup(tg, policy="từ chối")
    await submitted(services, AN)
    clock.advance(timedelta(days=21))  # 08:00 on 16/12/2024: past the deadline
    await tg.say(SECRETARY, "/return SYT; 20/12/2024 17:00; Thiếu phụ lục số liệu")
    await submitted(services, AN, "v2.pdf", b"%PDF v2")
    clock.advance(timedelta(days=2))  # 18/12

    replies = await tg.say(BINH, "/report")

    draft = draft_id(replies)
    assert replies[0].text.startswith(f"📋 <b>{PERIOD_TITLE}</b> — Sở Y tế\n")
    await tg.send_file(BINH, "v3.pdf", b"%PDF v3")
    await score_all(tg, BINH, draft)
    replies = await tg.tap(BINH, f"wk:{draft}:confirm:0")
    assert replies[0].text.startswith("✅ <b>Biên nhận báo cáo</b>")
    assert [(v.version, v.late) for v in await versions(services, "SYT")] == [
        (1, False),
        (2, False),
        (3, False),
    ]
    # After the 20th the period's policy applies again.
    clock.advance(timedelta(days=3))
    assert plain(await tg.say(AN, "/report")) == [(AN.id, LATE_REFUSED)]


# --- export and archive ----------------------------------------------------------------------


async def export_rows(tg: Harness) -> list[list[object]]:
    """/export: the workbook sent, its unit rows as values."""
    sent = documents(await raw_say(tg, SECRETARY, "/export"))
    assert [(f.chat_id, f.name, f.caption) for f in sent] == [
        (S, "diem-thi-dua.xlsx", f"Bảng điểm {PERIOD_TITLE} — {BLOC}")
    ]
    sheet = load_workbook(io.BytesIO(sent[0].data)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(min_row=4, values_only=True)]


async def test_export_has_self_and_reviewed_scores_totals_and_rank(
    tg: Harness, clock: FakeClock
) -> None:
    await report_setup(tg)
    await submitted(tg.services, AN)
    await reviewed(tg.services, SECRETARY, "SYT", SYT_REVIEWED)
    clock.advance(timedelta(days=21))
    await submitted(tg.services, CUONG, "sgddt.docx", SGDDT_DOCX, SGDDT_VALUES)
    # A unit whose name a spreadsheet would take for a formula.
    await tg.say(SECRETARY, '/units add =HYPERLINK("x"); HL')

    sent = documents(await raw_say(tg, SECRETARY, "/export"))

    assert len(sent) == 1
    book = load_workbook(io.BytesIO(sent[0].data))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "Điểm"
    assert (sheet["A1"].value, sheet["A2"].value) == (BLOC, PERIOD_TITLE)
    header = [c.value for c in sheet[3]]
    assert header[:7] == [
        "STT",
        "Đơn vị",
        "Tên viết tắt",
        "Trạng thái",
        "Phiên bản",
        "1.1 tự chấm\n(tối đa 10)",
        "1.1 thẩm định\n(tối đa 10)",
    ]
    assert header[-4:] == [
        "Tổng tự chấm\n(tối đa 105)",
        "Tổng thẩm định\n(tối đa 105)",
        "Tổng điểm tính\n(tối đa 105)",
        "Xếp hạng",
    ]
    rows = [list(row) for row in sheet.iter_rows(min_row=4, values_only=True)]

    def interleave(own: tuple[int, ...], reviewed: tuple[int, ...] | None) -> list[object]:
        cells: list[object] = []
        for i, value in enumerate(own):
            cells += [value / 100, None if reviewed is None else reviewed[i] / 100]
        return cells

    syt = interleave(SYT_VALUES, SYT_REVIEWED)
    sgddt = interleave(SGDDT_VALUES, None)
    assert rows == [
        # number, name, short name, status, version; (self, reviewed) per item; self total,
        # reviewed total, the total that counts, rank
        [1, "Sở Y tế", "SYT", "đã nộp", 1, *syt, 102, 96.5, 96.5, 2],
        [2, "Sở Giáo dục và Đào tạo", "SGDĐT", "nộp muộn", 1, *sgddt, 100, None, 100, 1],
        [3, "Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", "chưa nộp", None, *[None] * 32],
        [4, '=HYPERLINK("x")', "HL", "chưa nộp", None, *[None] * 32],
    ]
    assert sheet["B7"].data_type == "s"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    # The button under /status sends the same workbook.
    again = documents(await raw_tap(tg, SECRETARY, "ex:1:xlsx"))
    assert [(f.name, f.data) for f in again] == [("diem-thi-dua.xlsx", sent[0].data)]
    # Only the secretariat exports.
    requests = await raw_say(tg, AN, "/export")
    assert documents(requests) == []
    assert plain(replies_of(requests)) == [(AN.id, NOT_SECRETARIAT)]


async def test_the_archive_holds_the_latest_version_of_each_unit(
    tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    requests = await raw_tap(tg, SECRETARY, "ex:1:zip")
    assert documents(requests) == []
    assert plain(replies_of(requests)) == [(S, "Chưa có đơn vị nào nộp báo cáo kỳ này.")]

    await submitted(services, AN, "Báo cáo SYT.pdf", b"%PDF-1.7 phien ban 1")
    latest = b"%PDF-1.7 phien ban 2 " + bytes(range(256)) * 64
    await submitted(services, BINH, "../../Báo cáo SYT (sửa).PDF", latest)
    await submitted(services, SECRETARY, "bc.docx", SGDDT_DOCX, unit="SGDĐT")

    sent = documents(await raw_tap(tg, SECRETARY, "ex:1:zip"))

    assert [(f.chat_id, f.name, f.caption) for f in sent] == [
        (S, "bao-cao-phan-1.zip", "Báo cáo các đơn vị (bản mới nhất), phần 1/1 — 2 tệp.")
    ]
    with zipfile.ZipFile(io.BytesIO(sent[0].data)) as archive:
        assert archive.namelist() == ["01-SYT-v2.pdf", "02-SGDDT-v1.docx"]
        assert archive.read("01-SYT-v2.pdf") == latest
        assert archive.read("02-SGDDT-v1.docx") == SGDDT_DOCX
    assert [v.version for v in await versions(services, "SYT")] == [1, 2]
    # Representatives cannot fetch the archive.
    requests = await raw_tap(tg, AN, "ex:1:zip")
    assert documents(requests) == []
    assert plain(replies_of(requests)) == [(AN.id, NOT_SECRETARIAT)]


async def test_the_archive_is_built_part_by_part_off_the_event_loop(
    tg: Harness, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ZIP part is built in a worker thread and sent before the next one is built, so
    the bot keeps answering and holds one part in memory at a time."""
    await report_setup(tg)
    await submitted(services, AN, "syt.pdf", b"%PDF-1.7 syt " * 10)
    await submitted(services, CUONG, "sgddt.pdf", b"%PDF-1.7 sgddt " * 10)
    monkeypatch.setattr(reports_handlers, "archive_plan", partial(archive_plan, limit=400))
    loop_thread = threading.get_ident()
    built: list[tuple[int, bool, int]] = []
    build = ArchivePart.build

    def spy(part: ArchivePart) -> bytes:
        sent = sum(isinstance(m, SendDocument) for m in tg.bot.mock_session.requests)
        built.append((part.number, threading.get_ident() != loop_thread, sent))
        return build(part)

    monkeypatch.setattr(ArchivePart, "build", spy)
    before = sum(isinstance(m, SendDocument) for m in tg.bot.mock_session.requests)

    sent = documents(await raw_tap(tg, SECRETARY, "ex:1:zip"))

    assert [(f.name, f.caption) for f in sent] == [
        ("bao-cao-phan-1.zip", "Báo cáo các đơn vị (bản mới nhất), phần 1/2 — 2 tệp."),
        ("bao-cao-phan-2.zip", "Báo cáo các đơn vị (bản mới nhất), phần 2/2 — 2 tệp."),
    ]
    # (part, built off the event loop's thread, documents sent before it was built)
    assert built == [(1, True, before), (2, True, before + 1)]
