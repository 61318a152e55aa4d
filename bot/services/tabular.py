"""Reading a CSV or XLSX file sent in chat into rows of text cells (line numbers kept), and a
DOCX into its paragraphs.

These parse untrusted content: services call them through `bot.services.sandbox` (a child
process under time and memory limits), after `bot.services.filecheck` has checked the
content and the archive's declared sizes. Rows and paragraphs are counted as they come, so a
row of thousands of cells or a document of endless paragraphs is refused early.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import load_workbook

from bot.core.files import MAX_CELLS_PER_ROW, MAX_PARAGRAPHS

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000
TABLE_KINDS = ("xlsx", "csv", "txt")  # the extensions read_table reads


@dataclass(frozen=True, slots=True)
class Unreadable:
    why: str  # "type" | "size" | "encoding" | "broken" | "empty" | "rows" | "wide" | "long"


def read_table(filename: str, data: bytes) -> list[tuple[int, list[str]]] | Unreadable:
    """Rows (1-based line/row number, cells) of the first sheet or the CSV text."""
    if len(data) > MAX_FILE_BYTES:
        return Unreadable("size")
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        rows = _xlsx(data)
    elif lower.endswith((".csv", ".txt")):
        rows = _csv(data)
    else:
        return Unreadable("type")
    if isinstance(rows, Unreadable):
        return rows
    if not any(any(c.strip() for c in cells) for _, cells in rows):
        return Unreadable("empty")
    if len(rows) > MAX_ROWS:
        return Unreadable("rows")
    return rows


def _csv(data: bytes) -> list[tuple[int, list[str]]] | Unreadable:
    text: str | None = None
    # Excel in Vietnam saves UTF-8 with a BOM, or the Windows Vietnamese code page.
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        return Unreadable("encoding")
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if len(row) > MAX_CELLS_PER_ROW:
                return Unreadable("wide")
            rows.append((reader.line_num, row))
            if len(rows) > MAX_ROWS:
                break
    except csv.Error:
        return Unreadable("broken")
    return rows


def _xlsx(data: bytes) -> list[tuple[int, list[str]]] | Unreadable:
    # A damaged workbook can fail in many ways inside openpyxl (zip, XML, missing parts);
    # whatever the cause, the user is told the file is broken and nothing is imported.
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        return Unreadable("broken")
    try:
        sheet = workbook.worksheets[0]
        # The sheet's declared dimension would pad every row to it (a hostile one says
        # XFD1048576): rows are read as they are instead.
        sheet.reset_dimensions()
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + 1:
                break
            if len(values) > MAX_CELLS_PER_ROW:
                return Unreadable("wide")
            rows.append((number, [_cell(v) for v in values]))
    except Exception:
        return Unreadable("broken")
    finally:
        workbook.close()
    return rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def document_text(data: bytes) -> str | Unreadable:
    """A Word document's paragraphs, one per line ("long" past MAX_PARAGRAPHS, "broken" when
    python-docx cannot read it: a damaged archive, broken XML, a missing part)."""
    from docx import Document

    try:
        paragraphs = Document(io.BytesIO(data)).paragraphs
    except Exception:  # zipfile, lxml and python-docx each fail their own way on damage
        return Unreadable("broken")
    if len(paragraphs) > MAX_PARAGRAPHS:
        return Unreadable("long")
    return "\n".join(p.text for p in paragraphs)
