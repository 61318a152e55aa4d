"""Reading a CSV or XLSX file sent in chat into rows of text cells (line numbers kept)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import load_workbook

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000


@dataclass(frozen=True, slots=True)
class Unreadable:
    why: str  # "type" | "size" | "encoding" | "broken" | "empty" | "rows"


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
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error:
        return Unreadable("broken")


def _xlsx(data: bytes) -> list[tuple[int, list[str]]] | Unreadable:
    # A damaged workbook can fail in many ways inside openpyxl (zip, XML, missing parts);
    # whatever the cause, the user is told the file is broken and nothing is imported.
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        return Unreadable("broken")
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + 1:
                break
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
