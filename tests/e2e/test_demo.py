"""`make run` with no token: the offline demo runs a whole conference, from setup to the new
year, and writes every artefact (the README's first command, as a real process)."""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import struct
import sys
from pathlib import Path

from docx import Document
from openpyxl import load_workbook

from bot.demo import CDSP, LATE_CDYT, REPRESENTATIVES, SECOND_SYT, SECRETARY
from tests.rendered import fonts, layout_text, page_count, problems, soffice_path

ROOT = Path(__file__).resolve().parents[2]
SCREENS = (
    "screen-1-checkin.html",
    "screen-2-before.html",
    "screen-3-open.html",
    "screen-4-result.html",
)
FILES = (
    *SCREENS,
    "transcript.txt",
    "summary.vi.md",
    "summary.en.md",
    "standings.png",
    "standings.xlsx",
    "scores.xlsx",
    "bien-ban-hoi-nghi.docx",
    "bien-ban-kiem-phieu.docx",
    "to-trinh.docx",
)
# Written beside the DOCX when LibreOffice is installed (under CI it must be: see the end).
PDFS = ("bien-ban-hoi-nghi.pdf", "bien-ban-kiem-phieu.pdf", "to-trinh.pdf")
# Each document's most pages with the demo's data (issue 20: minutes 5 -> 4, records 13 -> 8).
# The demo's documents as LibreOffice lays them out: the minutes grew to five pages with what
# issue 20 added (guests and delegations listed, the awards handed out, the launch); the memo
# stays on one page with its run-off figures and the signer's title; the records one a page.
MOST_PAGES = {"bien-ban-hoi-nghi": 5, "bien-ban-kiem-phieu": 8, "to-trinh": 1}


def _screen(transcript: str, name: str) -> list[str]:
    """The lines the transcript gives for one state of the hall screen."""
    block = transcript.split(f"] màn hình hội trường ({name}):\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if not line.startswith("        "):
            break
        lines.append(line.strip())
    return lines


def _shown(page: str) -> str:
    """A saved page's text, as the screen shows it (no style sheet, no markup)."""
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def _text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [c.text for row in table.rows for c in row.cells]
    return "\n".join(parts)


async def test_make_run_without_a_token_runs_the_whole_conference(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM", "ZALO", "BOT_", "WEBHOOK", "DATABASE", "REDIS"))
    }
    env["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 600)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert out.decode().strip() == "demo: transcript written to demo-out/transcript.txt"
    demo = tmp_path / "demo-out"
    pdfs = PDFS if shutil.which("soffice") else ()
    assert sorted(p.name for p in demo.iterdir()) == sorted(FILES + pdfs)
    assert all((demo / name).stat().st_size > 0 for name in FILES)

    transcript = (demo / "transcript.txt").read_text(encoding="utf-8")
    sections = re.findall(r"^=== (\d+)[a-z]?\. ", transcript, flags=re.M)
    numbers = [int(n) for n in sections]
    assert numbers == sorted(numbers)
    assert numbers[0] == 1
    assert numbers[-1] == 28
    for step in (
        "=== 1. Thường trực tạo khối ===",
        "/checkin",
        "/covenant",
        "bỏ phiếu lại",
        "/standings",
        "/summary post",
        "[tệp bien-ban-hoi-nghi.docx]",
        "[tệp to-trinh.docx]",
        "🎉 Khối thi đua Văn hóa - Xã hội bước sang năm thi đua 2023.",
    ):
        assert step in transcript, step

    # One unit takes part through Zalo: joins with the code, checks in, votes by numbers,
    # finds its receipt counted and signs the covenant, all in plain text.
    zalo = [line for line in transcript.splitlines() if "(Zalo)" in line]
    said = [line.split("(Zalo): ", 1)[1] for line in zalo if "Cà Thị Ngọc (Zalo): " in line]
    code = re.findall(r"Mã: (\w{4}-\w{4}-\w{4}-\w{4})", transcript)[-1]
    receipt = re.findall(r"Cà Thị Ngọc \(Zalo\): kiem tra (\w{4}-\w{4}-\w{4})", transcript)
    voted = ["bo phieu 2", "2", "xác nhận", f"kiem tra {receipt[0]}"]
    # The secretary sets the conference up and creates its ballots on the web console.
    assert "Thường trực (Lò Thị Hương, trang web): [Sửa thông tin hội nghị: 08:00" in transcript
    assert "✅ Đã tạo các nội dung biểu quyết của hội nghị." in transcript
    # Check-in at the venue: the hall screen's code (refused without it, from anywhere).
    assert "cần mã 6 chữ số đang hiện trên màn hình hội trường" in transcript
    hall = re.findall(r": /checkin (\d{6})$", transcript, flags=re.M)[0]
    checkin = f"diem danh {hall}"
    assert said == [code, "tro giup", checkin, *voted, "web", "giao uoc", "ky", "1"]
    # Ballot 3 it votes on the web companion, signed in by the link its Zalo chat gave.
    assert "[đường dẫn đăng nhập, dùng một lần]" in transcript
    assert not re.search(r"/signin/[A-Za-z0-9_-]{43}", transcript)
    assert "Cà Thị Ngọc (trang web): [mở đường dẫn, bấm «Đăng nhập»]" in transcript
    assert re.search(
        r"trang web → Cà Thị Ngọc:\n +✅ Phiếu kín của Trường Cao đẳng Sư phạm Điện Biên đã được "
        r"bỏ vào hòm phiếu\..*\w{4}-\w{4}-\w{4}",
        transcript,
    )
    assert "bot → Cà Thị Ngọc (Zalo):" in transcript
    assert "✅ Đã điểm danh: Trường Cao đẳng Sư phạm Điện Biên." in transcript
    assert re.search(r"Phiếu có mã \w{4}-\w{4}-\w{4} đã được kiểm", transcript)
    assert "✅ Trường Cao đẳng Sư phạm Điện Biên đã ký giao ước thi đua năm 2023" in transcript
    assert "<b>" not in "\n".join(zalo)

    # The hall screen, as the secretary opened it from its link (never written out): the
    # check-in code the units type, the quorum, a secret ballot's turnout with no partial
    # result, then its result. Each state is also a page that opens from the folder.
    assert "[đường dẫn màn hình hội trường]" in transcript
    assert not re.search(r"/screen/[A-Za-z0-9_-]{43}", transcript)
    assert _screen(transcript, "screen-1-checkin.html") == [
        "Đơn vị có mặt 0/10 Chưa đủ 2/3: còn thiếu 7 đơn vị",
        f"Mã điểm danh {hall[:3]} {hall[3:]} Mã đổi sau 60 giây",
        "Quét để mở trang điểm danh",
        "Chưa có cuộc biểu quyết nào đang mở.",
    ]
    before = _screen(transcript, "screen-2-before.html")
    assert before[0] == "Đơn vị có mặt 10/10 ✔ Đủ 2/3: đủ điều kiện biểu quyết"
    assert before[-1] == "Chưa có cuộc biểu quyết nào đang mở."
    voting = _screen(transcript, "screen-3-open.html")
    assert voting[3:] == [
        "2. Đề nghị tặng Cờ thi đua của Chính phủ",
        "Thông qua khi đạt ≥70% tổng số đơn vị thành viên; không chọn đơn vị mình; bỏ phiếu kín",
        "4/10 đơn vị đã bỏ phiếu",
        "Kết quả công bố khi kiểm phiếu xong.",
    ]
    result = _screen(transcript, "screen-4-result.html")
    assert result[3:6] == [
        "Kết quả: 2. Đề nghị tặng Cờ thi đua của Chính phủ",
        "Phiếu phát ra: 10 · thu về: 10 · hợp lệ: 9 · không hợp lệ: 1 · phiếu trắng: 1",
        "Lựa chọn Số phiếu %",
    ]
    assert "Đài Phát thanh - Truyền hình tỉnh 9 90,0 ✔" in result
    assert result[-1] == "Kết quả: đề nghị Đài Phát thanh - Truyền hình tỉnh."
    people = [SECRETARY, *REPRESENTATIVES.values(), SECOND_SYT, LATE_CDYT]
    names = [f"{p.first_name} {p.last_name}" for p in people] + [CDSP.display_name]
    receipts = re.findall(r"Mã biên nhận: (\w{4}-\w{4}-\w{4})", transcript)
    assert receipts
    for name in SCREENS:
        page = (demo / name).read_text(encoding="utf-8")
        assert page.startswith("<!doctype html>")
        assert "body.screen {" in page  # its style sheet inside: it opens from the folder
        assert "<script" not in page
        assert "/screen/" not in page  # the link is the screen's only key
        shown = _shown(page)
        assert shown.startswith("Hội nghị tổng kết năm 2022 · Khối thi đua Văn hóa - Xã hội")
        assert not [n for n in names if n in shown], name  # units only, never a person
        assert not re.search(r"\b\w{4}-\w{4}-\w{4}\b", shown), name  # nor a receipt
        assert not [r for r in receipts if r in page]
    assert "4/10 đơn vị đã bỏ phiếu" in _shown((demo / "screen-3-open.html").read_text("utf-8"))
    assert "Kết quả: đề nghị Đài Phát thanh - Truyền hình tỉnh." in _shown(
        (demo / "screen-4-result.html").read_text("utf-8")
    )

    png = (demo / "standings.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (900, 510)  # ten units
    minutes = _text((demo / "bien-ban-hoi-nghi.docx").read_bytes())
    assert "Số: 01/BB-KTĐVHXH" in minutes
    assert "Điện Biên, ngày 20 tháng 12 năm 2022" in minutes
    assert "Đơn vị thành viên: có mặt 10/10 đơn vị" in minutes
    # What the hall saw, as the secretariat entered it: the launch and the awards handed out.
    handed_out = (
        "Nhân dịp này, Ủy ban nhân dân tỉnh đã tặng Cờ thi đua cho 1 tập thể (Sở Văn hóa, Thể "
        "thao và Du lịch); Chủ tịch UBND tỉnh đã tặng Bằng khen cho 7 tập thể, 7 cá nhân."
    )
    launched = "Hội nghị đã phát động phong trào thi đua năm 2023: Thi đua đoàn kết, sáng tạo"
    assert handed_out in minutes
    assert launched in minutes
    records = _text((demo / "bien-ban-kiem-phieu.docx").read_bytes())
    assert records.count("BIÊN BẢN") == 8
    memo = _text((demo / "to-trinh.docx").read_bytes())
    assert "Số: 01/TTr-KTĐVHXH" in memo
    assert "1. Cờ thi đua của Chính phủ: 01 đơn vị" in memo
    sheet = load_workbook(demo / "standings.xlsx").active
    assert sheet is not None
    assert sheet.max_row == 3 + 10
    # Printed on one landscape page, the total in it (it printed on two, the total cut off).
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr is not None
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$3:$3"
    summary = (demo / "summary.vi.md").read_text(encoding="utf-8")
    assert "được bầu làm đơn vị Trưởng khối năm 2023" in summary
    assert handed_out in summary
    assert launched in summary
    english = (demo / "summary.en.md").read_text(encoding="utf-8")
    assert (
        "On this occasion, Ủy ban nhân dân tỉnh presented Cờ thi đua to 1 collective (Sở Văn "
        "hóa, Thể thao và Du lịch); Chủ tịch UBND tỉnh presented Bằng khen to 7 collectives and "
        "7 individuals."
    ) in english
    assert "The conference launched the 2023 emulation movement: Thi đua đoàn kết" in english

    # The PDFs for digital signing, as the officer who signs them sees each page (CI fails
    # without LibreOffice): fonts embedded, no blank or scrap page, page numbers from page 2,
    # nothing outside the text area, every signer's name under room to sign.
    soffice_path()
    for name, most in MOST_PAGES.items():
        pdf = demo / f"{name}.pdf"
        assert 1 <= page_count(pdf) <= most, name
        assert [font for font, embedded in fonts(pdf) if not embedded] == [], name
        title = "TỜTRÌNH" if name == "to-trinh" else "BIÊNBẢN"
        assert title in "".join(layout_text(pdf, 1).split()), name
        docx = (demo / f"{name}.docx").read_bytes()
        assert problems(pdf, docx, footer="Mã kiểm chứng nhật ký") == [], name
    # The memo's page: the per-round figures, the closing line with the signature.
    memo = layout_text(demo / "to-trinh.pdf", 1)
    assert "bỏ phiếu lại" in memo
    assert "xem xét, quyết định./." in memo
    assert "Nguyễn Văn Thành" in memo
    assert "[tệp to-trinh.pdf] ✍️ Bản PDF để ký số (phông chữ đã nhúng sẵn)." in transcript
