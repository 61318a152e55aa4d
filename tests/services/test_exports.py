"""The score table as XLSX (numbers, escaping, ranks) and the reports archive as ZIP parts."""

from __future__ import annotations

import os
import time
import zipfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.scoring import Item, ItemKind, ScoringTable, competition_ranks, effective, totals
from bot.services.exports import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    ZIP_PART_LIMIT,
    ArchiveEntry,
    ScoreSheet,
    UnitScoreRow,
    archive_parts,
    archive_plan,
    ascii_short,
    file_extension,
    score_xlsx,
)

TABLE = ScoringTable(
    title="Bảng chấm điểm 2024",
    items=(
        Item("TC1", "Hoàn thành nhiệm vụ", 9050, ItemKind.CRITERION, "I"),
        Item("TH", "Điểm thưởng", 1000, ItemKind.BONUS),
        Item("TR", "Điểm trừ", 500, ItemKind.PENALTY),
    ),
    bonus_cap_cp=1000,
    penalty_cap_cp=500,
)
HOSTILE = ('=HYPERLINK("x")', "+1", "-2", "@SUM(A1)")


def _row(
    number: int,
    name: str,
    short: str,
    status: str,
    self_values: dict[str, int],
    reviewed: dict[str, int] | None = None,
    rank: int | None = None,
) -> UnitScoreRow:
    reviewed = reviewed or {}
    submitted = bool(self_values)
    return UnitScoreRow(
        number=number,
        name=name,
        short_name=short,
        status=status,
        version=1 if submitted else None,
        self_values=self_values,
        reviewed_values=reviewed,
        self_total_cp=totals(TABLE, self_values).total_cp if submitted else None,
        reviewed_total_cp=totals(TABLE, effective(self_values, reviewed)).total_cp
        if reviewed
        else None,
        total_cp=totals(TABLE, effective(self_values, reviewed)).total_cp if submitted else None,
        rank=rank,
    )


def _sheet() -> ScoreSheet:
    raw = [
        # reviewed 80 overrides self 80,25: 80 + 5 − 0 = 85
        (1, HOSTILE[0], HOSTILE[1], "submitted", {"TC1": 8025, "TH": 500, "TR": 0}, {"TC1": 8000}),
        # 80 + 10 − 5 = 85, tied with unit 1
        (2, HOSTILE[2], HOSTILE[3], "late", {"TC1": 8000, "TH": 1000, "TR": 500}, {}),
        # 70,10 + 0,75 − 0 = 70,85
        (3, "Trường THPT Đống Đa", "ĐĐ", "returned", {"TC1": 7010, "TH": 75, "TR": 0}, {}),
        (4, "Phường Tân Định", "TĐ", "missing", {}, {}),
    ]
    scored = {n: totals(TABLE, effective(s, r)).total_cp for n, _, _, _, s, r in raw if s}
    ranks = competition_ranks(scored)
    rows = tuple(
        _row(n, name, short, status, s, r, ranks.get(n)) for n, name, short, status, s, r in raw
    )
    return ScoreSheet("=cmd|' /C calc'!A0", "+Quý IV/2024", TABLE, rows)


def _open(data: bytes) -> Worksheet:
    ws = load_workbook(BytesIO(data)).active
    assert isinstance(ws, Worksheet)
    return ws


def _column(ws: Worksheet, header_start: str) -> int:
    for cell in ws[HEADER_ROW]:
        if isinstance(cell.value, str) and cell.value.startswith(header_start):
            return int(cell.column)
    raise AssertionError(header_start)


# --- score_xlsx --------------------------------------------------------------------------


def test_xlsx_holds_the_scores() -> None:
    ws = _open(score_xlsx(_sheet(), locale="vi"))
    assert ws.title == "Điểm"
    assert ws.freeze_panes == f"D{FIRST_DATA_ROW}"
    header = [c.value for c in ws[HEADER_ROW]]
    assert header[:5] == ["STT", "Đơn vị", "Tên viết tắt", "Trạng thái", "Phiên bản"]
    assert header[5] == "TC1 tự chấm\n(tối đa 90,5)"
    assert header[6] == "TC1 thẩm định\n(tối đa 90,5)"
    assert header[7] == "TH tự chấm\n(điểm thưởng, tối đa 10)"
    assert header[9] == "TR tự chấm\n(điểm trừ, tối đa 5)"
    assert [str(h).split("\n")[0] for h in header[11:]] == [
        "Tổng tự chấm",
        "Tổng thẩm định",
        "Tổng điểm tính",
        "Xếp hạng",
    ]
    assert "(tối đa 100,5)" in str(header[13])
    assert all(c.font.bold for c in ws[HEADER_ROW])

    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=FIRST_DATA_ROW)]
    assert len(rows) == 4
    one, two, three, four = rows
    assert one[0] == 1
    assert one[3:5] == ["đã nộp", 1]
    assert one[5:11] == [80.25, 80, 5, None, 0, None]
    assert one[11:] == [85.25, 85, 85, 1]
    assert two[3] == "nộp muộn"
    assert two[11:] == [85, None, 85, 1]
    assert three[1:4] == ["Trường THPT Đống Đa", "ĐĐ", "trả lại để sửa"]
    assert three[11:] == [70.85, None, 70.85, 3]
    assert four[:5] == [4, "Phường Tân Định", "TĐ", "chưa nộp", None]
    assert four[5:] == [None] * 10
    # totals are the exact centipoint sums / 100 (no float drift: 80.25 + 5 = 85.25)
    for row, expected_cp in zip(rows[:3], (8525, 8500, 7085), strict=True):
        assert row[11] == expected_cp / 100


def test_formula_like_names_stay_text() -> None:
    data = score_xlsx(_sheet(), locale="vi")
    ws = _open(data)
    texts = {
        ws["A1"].coordinate: ws["A1"],
        ws["A2"].coordinate: ws["A2"],
        **{
            c.coordinate: c
            for r in ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=5)
            for c in r[1:3]
        },
    }
    for cell in texts.values():
        assert cell.data_type == "s"
        assert isinstance(cell.value, str)
    # Shown exactly as typed: no apostrophe in front (it would be visible in the cell).
    assert ws["A1"].value == "=cmd|' /C calc'!A0"
    assert [ws.cell(FIRST_DATA_ROW, 2).value, ws.cell(FIRST_DATA_ROW, 3).value] == [
        HOSTILE[0],
        HOSTILE[1],
    ]
    assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r)
    with zipfile.ZipFile(BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    # Every text cell is an inline string; no cell carries a formula for a spreadsheet to run.
    assert "<f>" not in xml
    assert "<f " not in xml
    assert '<c r="A1" s="1" t="inlineStr"><is><t>=cmd|\' /C calc\'!A0</t></is></c>' in xml
    assert '<is><t>=HYPERLINK("x")</t></is>' in xml


@pytest.mark.parametrize("text", [*HOSTILE, " =1+1", "\t=1", "-", "＝1+1", "'=x", "UBND Quận 1"])
def test_every_text_cell_is_a_string_shown_as_typed(text: str) -> None:
    table = ScoringTable("T", (Item("A", "x", 100, ItemKind.CRITERION),))
    row = UnitScoreRow(1, text, "s", "submitted", 1, {"A": 100}, {}, 100, None, 100, 1)
    ws = _open(score_xlsx(ScoreSheet("b", "p", table, (row,)), locale="vi"))
    cell = ws.cell(FIRST_DATA_ROW, 2)
    assert (cell.value, cell.data_type) == (text, "s")


def test_hostile_item_codes_and_control_characters() -> None:
    table = ScoringTable("T", (Item("=1+1", "x", 100, ItemKind.CRITERION),))
    row = UnitScoreRow(
        1, "\x01=evil\x02", "s", "submitted", 1, {"=1+1": 100}, {}, 100, None, 100, 1
    )
    ws = _open(score_xlsx(ScoreSheet("b", "p", table, (row,)), locale="en"))
    assert ws.title == "Scores"
    assert ws.cell(HEADER_ROW, 6).value == "=1+1 self\n(max 1)"
    assert ws.cell(FIRST_DATA_ROW, 2).value == "=evil"
    assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r)
    assert ws.cell(FIRST_DATA_ROW, 4).value == "submitted"


def test_english_headers_and_decimal_point() -> None:
    ws = _open(score_xlsx(_sheet(), locale="en"))
    header = [c.value for c in ws[HEADER_ROW]]
    assert header[:5] == ["No.", "Unit", "Short name", "Status", "Version"]
    assert header[5:7] == ["TC1 self\n(max 90.5)", "TC1 reviewed\n(max 90.5)"]
    assert ws.cell(FIRST_DATA_ROW + 2, 4).value == "returned for correction"
    assert ws.cell(FIRST_DATA_ROW + 3, 4).value == "missing"


def test_xlsx_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    first = score_xlsx(_sheet(), locale="vi")
    later = time.time() + 86_400  # ZipFile.writestr stamps members with time.time()
    monkeypatch.setattr(time, "time", lambda: later)
    assert score_xlsx(_sheet(), locale="vi") == first
    when = datetime(2024, 12, 20, 10, 0, tzinfo=UTC)
    stamped = score_xlsx(_sheet(), locale="vi", when=when)
    assert load_workbook(BytesIO(stamped)).properties.modified == when.replace(tzinfo=None)
    with zipfile.ZipFile(BytesIO(stamped)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2024, 12, 20, 10, 0, 0)}


def test_column_widths_are_set() -> None:
    ws = _open(score_xlsx(_sheet(), locale="vi"))
    assert ws.column_dimensions["A"].width == 6
    assert 20 <= ws.column_dimensions["B"].width <= 45


# --- archive_parts -----------------------------------------------------------------------


def _entry(
    tmp_path: Path, number: int, short: str, name: str, size: int, version: int = 1
) -> ArchiveEntry:
    path = tmp_path / f"{number}-{version}.bin"
    path.write_bytes(os.urandom(size))
    return ArchiveEntry(number, short, version, name, path, size)


def _members(parts: list[tuple[str, bytes]]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for _, data in parts:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            assert archive.testzip() is None
            for info in archive.infolist():
                assert info.compress_type == zipfile.ZIP_DEFLATED
                assert info.filename not in found
                found[info.filename] = archive.read(info)
    return found


def test_small_archive_is_one_part(tmp_path: Path) -> None:
    entries = [
        _entry(tmp_path, 1, "ĐĐ", "báo cáo.PDF", 1000),
        _entry(tmp_path, 12, "Sở GD&ĐT", "../../etc/passwd", 10),
        _entry(tmp_path, 3, "../x", "C:\\Users\\a\\Báo cáo cuối năm.DOCX", 10, version=2),
        _entry(tmp_path, 4, "漢字", ".bashrc", 10),
        _entry(tmp_path, 5, "Q5", "scan.tar.gz", 10),
        _entry(tmp_path, 6, "Q6", "bảng.xlsx\x00.exe", 10),
        _entry(tmp_path, 7, "Q7", "report.numbers", 10),
    ]
    parts = archive_parts(entries)
    assert [name for name, _ in parts] == ["bao-cao-phan-1.zip"]
    members = _members(parts)
    assert list(members) == [
        "01-DD-v1.pdf",
        "12-So_GD_DT-v1",
        "03-x-v2.docx",
        "04-unit-v1",
        "05-Q5-v1.gz",
        "06-Q6-v1.exe",
        "07-Q7-v1.numbe",
    ]
    for entry, content in zip(entries, members.values(), strict=True):
        assert content == entry.path.read_bytes()


def test_duplicate_names_are_kept_apart(tmp_path: Path) -> None:
    entries = [_entry(tmp_path, 1, "A", "a.pdf", 5), _entry(tmp_path, 1, "A", "b.pdf", 5)]
    assert list(_members(archive_parts(entries))) == ["01-A-v1.pdf", "01-A-v1-2.pdf"]


def test_numbers_are_padded_to_the_widest(tmp_path: Path) -> None:
    entries = [_entry(tmp_path, 7, "A", "a.pdf", 5), _entry(tmp_path, 120, "B", "b.pdf", 5)]
    assert list(_members(archive_parts(entries))) == ["007-A-v1.pdf", "120-B-v1.pdf"]


def test_large_files_split_into_parts(tmp_path: Path) -> None:
    limit = 300_000
    entries = [_entry(tmp_path, n, f"U{n}", f"r{n}.pdf", 120_000) for n in range(1, 6)]
    parts = archive_parts(entries, limit=limit)
    assert [name for name, _ in parts] == [f"bao-cao-phan-{n}.zip" for n in (1, 2, 3)]
    assert all(len(data) < limit for _, data in parts)
    members = _members(parts)
    assert list(members) == [f"0{n}-U{n}-v1.pdf" for n in range(1, 6)]
    for entry, content in zip(entries, members.values(), strict=True):
        assert content == entry.path.read_bytes()
    # greedy, in order: two entries per part, the fifth alone
    counts = [len(zipfile.ZipFile(BytesIO(data)).namelist()) for _, data in parts]
    assert counts == [2, 2, 1]


def test_a_plan_knows_its_parts_before_building_any(tmp_path: Path) -> None:
    limit = 300_000
    entries = [_entry(tmp_path, n, f"U{n}", f"r{n}.pdf", 120_000) for n in range(1, 6)]
    plan = archive_plan(entries, limit=limit)
    assert [(p.name, [name for name, _ in p.members]) for p in plan] == [
        ("bao-cao-phan-1.zip", ["01-U1-v1.pdf", "02-U2-v1.pdf"]),
        ("bao-cao-phan-2.zip", ["03-U3-v1.pdf", "04-U4-v1.pdf"]),
        ("bao-cao-phan-3.zip", ["05-U5-v1.pdf"]),
    ]
    # Each part is built on its own, and the same as archive_parts builds it.
    assert [(p.name, p.build()) for p in plan] == archive_parts(entries, limit=limit)
    assert archive_plan([]) == []


def test_an_entry_larger_than_a_part_is_refused(tmp_path: Path) -> None:
    entries = [_entry(tmp_path, 1, "A", "a.pdf", 1000), _entry(tmp_path, 2, "B", "b.pdf", 5000)]
    with pytest.raises(ValueError, match=r"b\.pdf"):
        archive_parts(entries, limit=4000)


def test_no_entries_no_parts() -> None:
    assert archive_parts([]) == []


def test_archive_is_deterministic(tmp_path: Path) -> None:
    entries = [_entry(tmp_path, 1, "A", "a.pdf", 2000)]
    assert archive_parts(entries) == archive_parts(entries)


def test_real_limit_with_three_telegram_sized_files(tmp_path: Path) -> None:
    size = 20 * 1024 * 1024
    entries = [_entry(tmp_path, n, f"U{n}", f"r{n}.pdf", size) for n in (1, 2, 3)]
    parts = archive_parts(entries)
    assert len(parts) == 2
    assert all(len(data) < ZIP_PART_LIMIT for _, data in parts)
    assert sum(len(zipfile.ZipFile(BytesIO(d)).namelist()) for _, d in parts) == 3


@pytest.mark.parametrize(
    ("short", "safe"),
    [
        ("ĐĐ", "DD"),
        ("Sở GD&ĐT", "So_GD_DT"),
        ("../..", "unit"),
        ("a-b_c", "a-b_c"),
        ("Ｑ１", "Q1"),
    ],
)
def test_ascii_short(short: str, safe: str) -> None:
    assert ascii_short(short) == safe


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("a.PDF", "pdf"),
        ("noext", ""),
        (".hidden", ""),
        ("x.", ""),
        ("a/b.c/d", ""),
        ("a.jpeg ", "jpeg"),
    ],
)
def test_file_extension(name: str, ext: str) -> None:
    assert file_extension(name) == ext


# --- printing (issue 20, point 10) ------------------------------------------------------------


def _wide_sheet(items: int) -> ScoreSheet:
    table = ScoringTable(
        title="Bảng chấm điểm 2024",
        items=tuple(
            Item(f"{n}.1", f"Tiêu chí {n}", 1000, ItemKind.CRITERION, "I")
            for n in range(1, items + 1)
        ),
        bonus_cap_cp=0,
        penalty_cap_cp=0,
    )
    row = UnitScoreRow(
        number=1,
        name="Sở Khoa học và Công nghệ",
        short_name="SKHCN",
        status="submitted",
        version=1,
        self_values={i.code: 500 for i in table.items},
        reviewed_values={},
        self_total_cp=500 * items,
        reviewed_total_cp=None,
        total_cp=500 * items,
        rank=1,
    )
    return ScoreSheet("Khối thi đua Văn hóa & Xã hội", "Báo cáo tổng kết 2024", table, (row,))


def test_the_score_sheet_prints_as_an_office_prints_it() -> None:
    """A4 landscape, the header row and the unit columns on every page, the bloc and the
    period in the page header with the printing date, page numbers at the foot (it printed
    on six portrait pages, the unit names on the first only)."""
    ws = _open(score_xlsx(_sheet(), locale="vi"))
    setup = ws.page_setup
    assert (str(setup.paperSize), setup.orientation) == (ws.PAPERSIZE_A4, "landscape")
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws.print_title_cols == "$A:$C"
    header, footer = ws.oddHeader, ws.oddFooter
    assert header is not None
    assert footer is not None
    assert header.center.text == "=cmd|' /C calc'!A0 — +Quý IV/2024"
    assert header.right.text == "&D"
    assert footer.center.text == "&P / &N"

    # One criterion: the sheet fits one page wide (at 70% or more), as many pages down as
    # the units need.
    narrow = _open(score_xlsx(_wide_sheet(1), locale="vi"))
    assert narrow.sheet_properties.pageSetUpPr is not None
    assert narrow.sheet_properties.pageSetUpPr.fitToPage
    assert (narrow.page_setup.fitToWidth, narrow.page_setup.fitToHeight) == (1, 0)
    assert narrow.page_setup.scale is None

    # Twelve criteria: one page wide would print at about a third of the size; it prints
    # at 70% over pages across instead, each starting with the units. An "&" in the bloc's
    # name is printed, not read as a header code.
    wide = _open(score_xlsx(_wide_sheet(12), locale="vi"))
    assert wide.page_setup.scale == 70
    props = wide.sheet_properties.pageSetUpPr
    assert props is None or not props.fitToPage
    assert wide.print_title_cols == "$A:$C"
    assert wide.oddHeader is not None
    assert str(wide.oddHeader.center.text).startswith("Khối thi đua Văn hóa && Xã hội — ")
