"""What leaves the bot as files: the score table (XLSX) and the reports archive (ZIP parts).

Both are built from plain view values, never from ORM rows, so they are tested with literal
data. Text cells that a spreadsheet would read as a formula stay text (design decision 12).
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from bot.core.models import Locale
from bot.core.scoring import ItemKind, ScoringTable, format_points
from bot.render import Renderer

if TYPE_CHECKING:  # standings -> voting -> documents -> exports: type only
    from bot.services.standings import StandingsView

ZIP_PART_LIMIT = 45 * 1024 * 1024  # Telegram accepts uploads up to 50 MB; keep a margin
FIXED_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # default stamp: the same input, the same bytes
HEADER_ROW = 3  # rows 1 and 2: the bloc's name and the period's title
FIRST_DATA_ROW = HEADER_ROW + 1


@dataclass(frozen=True, slots=True)
class UnitScoreRow:
    number: int  # the unit's number in the bloc's list
    name: str
    short_name: str
    status: str  # "submitted" | "late" | "missing" | "returned"
    version: int | None
    self_values: dict[str, int] = field(default_factory=dict)  # item code → centipoints
    reviewed_values: dict[str, int] = field(default_factory=dict)
    self_total_cp: int | None = None
    reviewed_total_cp: int | None = None
    total_cp: int | None = None  # reviewed where reviewed, otherwise self
    rank: int | None = None  # ties share a rank; missing units have none


@dataclass(frozen=True, slots=True)
class ScoreSheet:
    bloc_name: str
    period_title: str
    table: ScoringTable
    rows: tuple[UnitScoreRow, ...]


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    unit_number: int
    unit_short: str
    version: int
    original_name: str  # as the user sent it; sanitised before it is used in the archive
    path: Path  # the stored file (by content hash)
    size: int


def score_xlsx(sheet: ScoreSheet, *, locale: str, when: datetime = FIXED_TIME) -> bytes:
    """Units × items, self and reviewed values, totals and rank, as an XLSX workbook.

    Row 1 holds the bloc's name, row 2 the period's title, row 3 the header (frozen with the
    number, name and short name columns), one row per unit below. Points are numbers
    (centipoints / 100, exact); a missing value is an empty cell. ``when`` stamps the file's
    properties and ZIP members, so the same sheet always gives the same bytes.
    """
    loc = Locale(locale)

    def t(key: str) -> str:
        return document_renderer().t(loc, f"xlsx.{key}")

    def points(cp: int) -> str:
        text = format_points(cp)
        return text if loc is Locale.VI else text.replace(",", ".")

    wb = Workbook()
    ws = wb.active
    if not isinstance(ws, Worksheet):  # a new workbook has one worksheet
        raise TypeError("openpyxl did not create a worksheet")
    ws.title = t("sheet")
    widths: dict[int, int] = {}

    def put(row: int, column: int, value: str | int | Decimal | None) -> Cell:
        cell = ws.cell(row=row, column=column)
        if not isinstance(cell, Cell):  # nothing is merged on this sheet
            raise TypeError(f"merged cell at row {row}, column {column}")
        if isinstance(value, str):
            text = _xml_safe(value)
            cell.value = text  # openpyxl types text starting with "=" as a formula …
            # … so store it as a string: written as an inline string (<is><t>), never as a
            # formula (<f>), it shows exactly as typed, "=HYPERLINK(…)" included, and no
            # spreadsheet evaluates it. (A leading apostrophe, the CSV advice, would show.)
            cell.data_type = "s"
            longest = max((len(line) for line in text.splitlines()), default=0)
        elif value is not None:
            cell.value = value
            longest = len(str(value))
        else:
            longest = 0
        if row >= HEADER_ROW:
            widths[column] = max(widths.get(column, 0), longest)
        return cell

    title = put(1, 1, sheet.bloc_name)
    title.font = Font(bold=True, size=14)
    put(2, 1, sheet.period_title).font = Font(italic=True)

    kind_word = {ItemKind.BONUS: t("bonus"), ItemKind.PENALTY: t("penalty")}
    header = [t("number"), t("unit"), t("short"), t("status"), t("version")]
    for item in sheet.table.items:
        limit = f"{t('max')} {points(item.max_cp)}"
        if item.kind in kind_word:
            limit = f"{kind_word[item.kind]}, {limit}"
        header += [
            f"{item.code} {t('self')}\n({limit})",
            f"{item.code} {t('reviewed')}\n({limit})",
        ]
    best = f"\n({t('max')} {points(sheet.table.max_total_cp)})"
    header += [t("self_total") + best, t("reviewed_total") + best, t("total") + best, t("rank")]
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for column, text in enumerate(header, start=1):
        cell = put(HEADER_ROW, column, text)
        cell.font = bold
        cell.alignment = wrap

    for offset, unit in enumerate(sheet.rows):
        row = FIRST_DATA_ROW + offset
        values: list[str | int | Decimal | None] = [
            unit.number,
            unit.name,
            unit.short_name,
            _status(t, unit.status),
            unit.version,
        ]
        for item in sheet.table.items:
            values += [
                _cp(unit.self_values.get(item.code)),
                _cp(unit.reviewed_values.get(item.code)),
            ]
        values += [
            _cp(unit.self_total_cp),
            _cp(unit.reviewed_total_cp),
            _cp(unit.total_cp),
            unit.rank,
        ]
        for column, value in enumerate(values, start=1):
            put(row, column, value)

    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=4).coordinate
    ws.row_dimensions[HEADER_ROW].height = 45
    for column, longest in widths.items():
        cap = _NAME_WIDTH if column == 2 else _COLUMN_WIDTH
        ws.column_dimensions[get_column_letter(column)].width = min(max(longest + 2, 6), cap)
    _print_setup(ws, f"{sheet.bloc_name} — {sheet.period_title}", unit_columns="A:C")

    stamp = when.astimezone(UTC).replace(tzinfo=None)
    wb.properties.created = wb.properties.modified = stamp
    raw = BytesIO()
    with ZipFile(raw, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # unlike Workbook.save, keeps `modified` as set
    return restamp(raw.getvalue(), when)


def standings_xlsx(view: StandingsView, *, locale: str, when: datetime = FIXED_TIME) -> bytes:
    """One row per unit: rank, name, short name, the total that counts, whether it is the
    reviewed or the self-score, the report's status (criterion detail is in scores.xlsx).
    Text is stored as strings (never formulas); the same standings give the same bytes."""
    loc = Locale(locale)

    def t(key: str) -> str:
        return document_renderer().t(loc, f"xlsx.{key}")

    wb = Workbook()
    ws = wb.active
    if not isinstance(ws, Worksheet):
        raise TypeError("openpyxl did not create a worksheet")
    ws.title = t("standings_sheet")

    def put(row: int, column: int, value: str | int | Decimal | None) -> Cell:
        cell = ws.cell(row=row, column=column)
        if not isinstance(cell, Cell):
            raise TypeError(f"merged cell at row {row}, column {column}")
        if isinstance(value, str):
            cell.value = _xml_safe(value)
            cell.data_type = "s"  # as typed, "=…" included: never a formula
        else:
            cell.value = value
        return cell

    put(1, 1, view.bloc.name).font = Font(bold=True, size=14)
    put(2, 1, view.period.title if view.period else "").font = Font(italic=True)
    header = [t("rank"), t("unit"), t("short"), t("total"), t("counted"), t("status")]
    wrap = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for column, text in enumerate(header, start=1):
        cell = put(HEADER_ROW, column, text)
        cell.font = Font(bold=True)
        cell.alignment = wrap  # "Tổng điểm", "Điểm tính theo" in their narrow columns
    ws.row_dimensions[HEADER_ROW].height = 30
    for offset, line in enumerate(view.rows):
        row = FIRST_DATA_ROW + offset
        counted = "" if line.total_cp is None else t("reviewed" if line.reviewed else "self")
        values: list[str | int | Decimal | None] = [
            line.rank,
            line.unit.name,
            line.unit.short_name,
            _cp(line.total_cp),
            counted,
            _status(t, line.status),
        ]
        for column, value in enumerate(values, start=1):
            put(row, column, value)
    for letter, width in zip("ABCDEF", (7, _NAME_WIDTH, 14, 11, 12, 22), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=3).coordinate
    title = view.bloc.name + (f" — {view.period.title}" if view.period else "")
    _print_setup(ws, title, unit_columns="A:B")
    stamp = when.astimezone(UTC).replace(tzinfo=None)
    wb.properties.created = wb.properties.modified = stamp
    raw = BytesIO()
    with ZipFile(raw, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return restamp(raw.getvalue(), when)


# Column widths, in characters, that A4 holds at 100%: about 90 portrait, 135 landscape.
PORTRAIT_WIDTH = 90
LANDSCAPE_WIDTH = 135
SMALLEST_SCALE = 70  # percent: below it a page is no longer read comfortably


def _print_setup(ws: Worksheet, title: str, *, unit_columns: str) -> None:
    """As an office prints it: A4, landscape when the columns are wider than a portrait
    page; fitted to the page's width (as many pages down as needed) when that keeps the
    text at SMALLEST_SCALE or more, else printed at that scale over several pages across;
    the header row and the unit columns repeated on every page, the title and the printing
    date in the page header, page numbers at the foot."""
    width = sum(d.width or 9 for d in ws.column_dimensions.values())
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if width > PORTRAIT_WIDTH else "portrait"
    if width * SMALLEST_SCALE <= LANDSCAPE_WIDTH * 100:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as the units need
    else:  # a wide score table: readable pages across, each starting with the units
        ws.page_setup.scale = SMALLEST_SCALE
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_title_cols = unit_columns
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    header, footer = ws.oddHeader, ws.oddFooter
    if header is None or footer is None:  # a new worksheet has both
        raise TypeError("openpyxl made a worksheet without a page header")
    header.center.text = _xml_safe(title).replace("&", "&&")
    header.center.size = 11
    header.right.text = "&D"  # the day it is printed
    footer.center.text = "&P / &N"


@dataclass(frozen=True, slots=True)
class ArchivePart:
    """One ZIP part, planned (its members and their names) but not built yet."""

    number: int
    members: tuple[tuple[str, ArchiveEntry], ...]  # (name in the archive, entry)
    limit: int
    when: datetime

    @property
    def name(self) -> str:
        return f"bao-cao-phan-{self.number}.zip"

    def build(self) -> bytes:
        """The part's bytes: reads every member's file (blocking; run it off the event loop)."""
        data = build_zip([(name, entry.path) for name, entry in self.members], when=self.when)
        if len(data) >= self.limit:  # the bound rules this out; never send an oversized part
            raise RuntimeError(f"part {self.number} is {len(data)} bytes, over {self.limit}")
        return data


def archive_plan(
    entries: list[ArchiveEntry], *, limit: int = ZIP_PART_LIMIT, when: datetime = FIXED_TIME
) -> list[ArchivePart]:
    """How the entries split into ZIP parts each under `limit`, holding every entry once.

    Only the files' sizes are read, so the number of parts is known before any is built;
    each part is then built on its own (:meth:`ArchivePart.build`), so a sender holds one part
    in memory at a time.

    Entries keep their order and are packed greedily. Each is named
    ``NN-<SHORT>-vV.<ext>`` from the unit's number, its short name folded to ASCII, the
    version and the original file's extension: the name the user sent is never used as a
    path. A part is sized by an upper bound of what deflate can produce (incompressible data
    grows slightly), so it stays under ``limit`` whatever the files hold.
    """
    if not entries:
        return []
    width = max(2, len(str(max(e.unit_number for e in entries))))
    taken: set[str] = set()
    named: list[tuple[str, ArchiveEntry, int]] = []
    for entry in entries:
        name = _unique(_entry_name(entry, width), taken)
        size = entry.path.stat().st_size
        cost = _entry_bound(name, size)
        if cost + _END_RECORD >= limit:
            raise ValueError(
                f"{entry.original_name!r} ({size} bytes) does not fit in a {limit}-byte part"
            )
        named.append((name, entry, cost))

    groups: list[list[tuple[str, ArchiveEntry]]] = [[]]
    used = _END_RECORD
    for name, entry, cost in named:
        if groups[-1] and used + cost >= limit:
            groups.append([])
            used = _END_RECORD
        groups[-1].append((name, entry))
        used += cost
    return [
        ArchivePart(number, tuple(group), limit, when)
        for number, group in enumerate(groups, start=1)
    ]


def archive_parts(
    entries: list[ArchiveEntry], *, limit: int = ZIP_PART_LIMIT, when: datetime = FIXED_TIME
) -> list[tuple[str, bytes]]:
    """Every ZIP part (name, bytes) at once, as planned by :func:`archive_plan`."""
    return [(part.name, part.build()) for part in archive_plan(entries, limit=limit, when=when)]


def export_files(entries: list[ArchiveEntry], directory: Path) -> list[Path]:
    """Copy every entry into `directory` under its archive name (the server-side export)."""
    if not entries:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    width = max(2, len(str(max(e.unit_number for e in entries))))
    taken: set[str] = set()
    written: list[Path] = []
    for entry in entries:
        target = directory / _unique(_entry_name(entry, width), taken)
        shutil.copyfile(entry.path, target)
        written.append(target)
    return written


def zip_bound(members: list[tuple[str, int]]) -> int:
    """The most bytes a ZIP of these members (name, size) can take, deflate's bound
    included: known before any file is read."""
    return _END_RECORD + sum(_entry_bound(name, size) for name, size in members)


def build_zip(members: list[tuple[str, bytes | Path]], *, when: datetime = FIXED_TIME) -> bytes:
    """A ZIP of the members in their order, each a file's bytes or a stored file (read in
    chunks), every member dated `when`: the same content gives the same bytes. Blocking:
    run it off the event loop."""
    raw = BytesIO()
    with ZipFile(raw, "w", ZIP_DEFLATED) as archive:
        for name, content in members:
            with archive.open(_info(name, when), "w") as out:
                if isinstance(content, bytes):
                    out.write(content)
                else:
                    with content.open("rb") as source:
                        shutil.copyfileobj(source, out, _CHUNK)
    return raw.getvalue()


# --- helpers ---------------------------------------------------------------------------

_EXCEL_TEXT_LIMIT = 32_767
_NAME_WIDTH = 45
_COLUMN_WIDTH = 24
_CHUNK = 1024 * 1024
_LOCAL_HEADER = 30  # fixed part of a ZIP local file header, before the name
_CENTRAL_HEADER = 46  # fixed part of a central directory entry, before the name
_END_RECORD = 22  # end of central directory record, no comment
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_NOT_EXT = re.compile(r"[^a-z0-9]+")


@cache
def document_renderer() -> Renderer:
    """The catalog for files (spreadsheets, charts), made once."""
    return Renderer()


def _status(t: Callable[[str], str], status: str) -> str:
    try:
        return t(f"status_{status}")
    except KeyError:
        return status


def _cp(value: int | None) -> Decimal | None:
    """Centipoints as an exact decimal number of points (1250 → 12.5)."""
    return None if value is None else Decimal(value) / 100


def _xml_safe(text: str) -> str:
    """Control characters cannot be stored in XLSX; Excel refuses over-long cells."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:_EXCEL_TEXT_LIMIT]


def _info(name: str, when: datetime) -> ZipInfo:
    info = ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = ZIP_DEFLATED
    info.create_system = 3  # Unix, whatever system built it: same bytes everywhere
    info.external_attr = 0o644 << 16
    return info


def restamp(data: bytes, when: datetime = FIXED_TIME) -> bytes:
    """The same ZIP with every member dated `when` (ZipFile.writestr stamps the clock)."""
    raw = BytesIO()
    with ZipFile(BytesIO(data)) as source, ZipFile(raw, "w", ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(_info(member.filename, when), source.read(member))
    return raw.getvalue()


def ascii_short(short: str) -> str:
    """A short name as ASCII letters, digits, _ and -: "Sở GD&ĐT" → "So_GD_DT"."""
    decomposed = unicodedata.normalize("NFKD", short.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SAFE.sub("_", plain).strip("_")[:40] or "unit"


def file_extension(original_name: str) -> str:
    """The extension of a sent file's name, lower-case [a-z0-9], at most 5 characters."""
    base = original_name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip("."):
        return ""
    return _NOT_EXT.sub("", ext.lower())[:5]


def _entry_name(entry: ArchiveEntry, width: int) -> str:
    ext = file_extension(entry.original_name)
    name = f"{entry.unit_number:0{width}d}-{ascii_short(entry.unit_short)}-v{entry.version}"
    return f"{name}.{ext}" if ext else name


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.partition(".")
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    taken.add(candidate)
    return candidate


def _entry_bound(name: str, size: int) -> int:
    """Most bytes an entry can take in a ZIP: headers plus zlib's deflateBound, plus slack."""
    deflated = size + (size >> 12) + (size >> 14) + (size >> 25) + 13
    encoded = len(name.encode())
    return _LOCAL_HEADER + _CENTRAL_HEADER + 2 * encoded + deflated + 64
