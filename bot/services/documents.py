"""Official documents as DOCX in the NĐ 30/2020 layout (python-docx).

A4 portrait, margins 20/20/30/15 mm, Times New Roman; a two-column header (issuing body and
number on the left, the national title, motto and date line on the right), a centred title,
then the body and the signatures. Words come from the catalog (`[record]` in strings.toml).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from bot.services.exports import restamp

FONT = "Times New Roman"
HEADER_WIDTHS_MM = (78, 95)  # 165 mm of text width: stack-notes, LibreOffice needs the grid


@dataclass(frozen=True, slots=True)
class RecordRow:
    name: str
    votes: int
    percent_tenths: int
    passes: bool


@dataclass(frozen=True, slots=True)
class VoteRecord:
    """Everything a biên bản kiểm phiếu states, already in words and numbers."""

    issuer: str  # the bloc, as the issuing body
    number: str  # "01/BB-KTĐVHXH"
    locality: str
    when: datetime
    timezone: str
    subject: str
    place: str
    counting_board: tuple[str, ...]
    issued: int
    returned: int
    valid: int
    invalid: int
    blank: int
    base_label: str
    base_count: int
    threshold: str
    rows: tuple[RecordRow, ...]
    conclusion: str
    audit_head: str


def date_line(locality: str, when: datetime, tz: str) -> str:
    """ "Điện Biên, ngày 20 tháng 12 năm 2022": days under 10 and months 1-2 zero-padded."""
    local = when.astimezone(ZoneInfo(tz))
    month = f"{local.month:02d}" if local.month <= 2 else str(local.month)
    text = f"ngày {local.day:02d} tháng {month} năm {local.year}"
    return f"{locality}, {text}" if locality else text.capitalize()


def vote_record_docx(record: VoteRecord, t: Callable[[str], str]) -> bytes:
    """The vote-count record (biên bản kiểm phiếu) of one ballot."""
    doc = Document()
    _page(doc)
    _header(
        doc,
        record.issuer,
        record.number,
        date_line(record.locality, record.when, record.timezone),
        t,
    )
    _para(
        doc,
        t("record.title"),
        bold=True,
        size=14,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space_before=12,
    )
    _para(doc, record.subject, bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    local = record.when.astimezone(ZoneInfo(record.timezone))
    _para(
        doc,
        t("record.opening").format(
            time=local.strftime("%H giờ %M"),
            date=date_line("", record.when, record.timezone).lower(),
            place=record.place,
        ),
        space_before=6,
    )
    _para(doc, t("record.board"))
    for name in record.counting_board:
        _para(doc, f"- {name}")
    _para(
        doc,
        t("record.counts").format(
            issued=record.issued,
            returned=record.returned,
            valid=record.valid,
            invalid=record.invalid,
            blank=record.blank,
        ),
        space_before=6,
    )
    _para(
        doc,
        t("record.base").format(
            base=record.base_label, count=record.base_count, threshold=record.threshold
        ),
    )
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, key in zip(
        table.rows[0].cells,
        ("record.col_no", "record.col_option", "record.col_votes", "record.col_percent"),
        strict=True,
    ):
        _cell(cell.paragraphs[0], t(key), bold=True)
    for number, row in enumerate(record.rows, start=1):
        cells = table.add_row().cells
        percent = f"{row.percent_tenths // 10},{row.percent_tenths % 10}%"
        for cell, text in zip(
            cells, (str(number), row.name, str(row.votes), percent), strict=True
        ):
            _cell(cell.paragraphs[0], text)
    _widths(table, (15, 95, 25, 30))
    _para(doc, record.conclusion, bold=True, space_before=6)
    _para(doc, t("record.closing"), italic=True, space_before=6)
    _signatures(doc, t("record.sign_board"), t("record.sign_chair"), record.counting_board)
    _para(doc, t("record.audit").format(head=record.audit_head), size=9, space_before=12)
    buffer = io.BytesIO()
    doc.core_properties.created = datetime(2000, 1, 1)  # noqa: DTZ001 (docx stores naive)
    doc.core_properties.modified = datetime(2000, 1, 1)  # noqa: DTZ001
    doc.save(buffer)
    return restamp(buffer.getvalue())  # the same record, the same bytes


def _page(doc: DocumentObject) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    font = style.font
    font.name = FONT
    font.size = Pt(13)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def _header(
    doc: DocumentObject, issuer: str, number: str, dated: str, t: Callable[[str], str]
) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    _cell(left.paragraphs[0], issuer.upper(), bold=True, size=12)
    _rule(left.add_paragraph())
    _cell(left.add_paragraph(), t("record.number").format(number=number), size=13)
    _cell(right.paragraphs[0], t("record.nation"), bold=True, size=12)
    _cell(right.add_paragraph(), t("record.motto"), bold=True, size=13)
    _rule(right.add_paragraph())
    _cell(right.add_paragraph(), dated, italic=True, size=13)
    _widths(table, HEADER_WIDTHS_MM)


def _cell(
    paragraph: Paragraph, text: str, *, bold: bool = False, italic: bool = False, size: int = 13
) -> None:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    run.font.size = Pt(size)
    run.font.name = FONT


def _para(
    doc: DocumentObject,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: int = 13,
    align: int | None = None,
    space_before: int = 0,
) -> None:
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align  # type: ignore[assignment]
    paragraph.paragraph_format.space_before = Pt(space_before)
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    run.font.size = Pt(size)
    run.font.name = FONT


def _rule(paragraph: Paragraph) -> None:
    """The short line under the issuing body and under the motto."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run("────────")
    run.font.size = Pt(8)


def _widths(table: Table, widths_mm: tuple[int, ...]) -> None:
    # LibreOffice ignores cell widths alone: set the grid columns too (stack-notes).
    grid = table._tbl.tblGrid
    for gridcol, width in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=False):
        gridcol.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(width)


def _signatures(
    doc: DocumentObject, left_title: str, right_title: str, board: tuple[str, ...]
) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    _cell(left.paragraphs[0], left_title, bold=True)
    for name in board:
        _cell(left.add_paragraph(), name)
    _cell(right.paragraphs[0], right_title, bold=True)
    _widths(table, (80, 85))
    marker = OxmlElement("w:tblLayout")
    marker.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(marker)
