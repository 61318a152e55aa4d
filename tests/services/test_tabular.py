"""Unit-list files: damaged workbooks are refused as broken, never crash the handler."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

from bot.services.tabular import Unreadable, read_table


def _workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Tên đơn vị", "Tên viết tắt"])
    sheet.append(["Sở Y tế", "SYT"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite(data: bytes, name: str, content: bytes | None) -> bytes:
    """The same workbook with one part replaced (or dropped when content is None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename == name:
                if content is not None:
                    dst.writestr(item, content)
                continue
            dst.writestr(item, src.read(item.filename))
    return out.getvalue()


def test_a_good_workbook_reads() -> None:
    assert read_table("don-vi.xlsx", _workbook()) == [
        (1, ["Tên đơn vị", "Tên viết tắt"]),
        (2, ["Sở Y tế", "SYT"]),
    ]


def test_truncated_sheet_xml_is_broken() -> None:
    data = _workbook()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    damaged = _rewrite(data, "xl/worksheets/sheet1.xml", sheet[: len(sheet) // 2])
    assert read_table("don-vi.xlsx", damaged) == Unreadable("broken")


def test_missing_parts_and_garbage_are_broken() -> None:
    data = _workbook()
    assert read_table("x.xlsx", _rewrite(data, "xl/workbook.xml", None)) == Unreadable("broken")
    assert read_table("x.xlsx", b"PK\x03\x04 not really a zip") == Unreadable("broken")
    assert read_table("x.xlsx", b"") == Unreadable("broken")
