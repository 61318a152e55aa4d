"""Official documents as DOCX in the NĐ 30/2020 layout (python-docx).

A4 portrait, margins 20/20/30/15 mm, Times New Roman; a two-column header (issuing body and
number on the left, the national title, motto and date line on the right), a centred title,
then the body and the signatures. Words come from the catalog (`[record]` in strings.toml).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from bot.services.exports import restamp

FONT = "Times New Roman"
HEADER_WIDTHS_MM = (70, 95)  # A4's 165-mm text width; LibreOffice needs the grid (stack-notes)
# The lines the decree draws under the issuing body (a third to a half of its line) and under
# the motto (as long as the motto), in mm.
ISSUER_RULE_MM = 25
MOTTO_RULE_MM = 62
# Word and LibreOffice check spelling in the document's language (English marked nearly
# every Vietnamese word as misspelt).
LANGUAGES = {"vi": "vi-VN", "en": "en-GB"}


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
    number: str  # "01/BBKP-KTĐVHXH" (the first counted ballot; the minutes are 01/BB-…)
    locality: str
    when: datetime  # the count, stated in the record's body
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
    dated: datetime | None = None  # the header's date: the conference's (None: the count's)
    chair: str = ""  # the conference's chair, by name (signs beside the board's head)


def date_line(locality: str, when: datetime, tz: str) -> str:
    """ "Điện Biên, ngày 20 tháng 12 năm 2022": days under 10 and months 1-2 zero-padded."""
    local = when.astimezone(ZoneInfo(tz))
    month = f"{local.month:02d}" if local.month <= 2 else str(local.month)
    text = f"ngày {local.day:02d} tháng {month} năm {local.year}"
    return f"{locality}, {text}" if locality else text.capitalize()


def vote_record_docx(record: VoteRecord, t: Callable[[str], str], *, locale: str = "vi") -> bytes:
    """The vote-count record (biên bản kiểm phiếu) of one ballot."""
    return vote_records_docx((record,), t, locale=locale)


def vote_records_docx(
    records: Sequence[VoteRecord], t: Callable[[str], str], *, locale: str = "vi"
) -> bytes:
    """Several vote-count records in one file, each from a new page (attached to the minutes)."""
    doc = Document()
    _page(doc, locale)
    for index, record in enumerate(records):
        if index:
            # A section of its own: a new page that never leaves a blank one behind (a page
            # break in an empty paragraph did, after a record that filled its page), and the
            # record's own page numbers.
            section = doc.add_section(WD_SECTION.NEW_PAGE)
            numbering = OxmlElement("w:pgNumType")
            numbering.set(qn("w:start"), "1")
            _insert(section._sectPr, numbering, "w:pgNumType")
        _vote_record(doc, record, t)
    first = records[0]
    _footer_line(doc, t("record.audit").format(head=first.audit_head))
    title = t("record.title").capitalize()
    return _save(
        doc,
        author=first.issuer,
        title=f"{title}: {first.subject}" if len(records) == 1 else title,
        locale=locale,
    )


def _vote_record(doc: DocumentObject, record: VoteRecord, t: Callable[[str], str]) -> None:
    _header(
        doc,
        record.issuer,
        record.number,
        date_line(record.locality, record.dated or record.when, record.timezone),
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
    _para(doc, record.conclusion, bold=True, space_before=6, keep_with_next=True)
    _para(doc, t("record.closing"), italic=True, space_before=6, keep_with_next=True)
    _board_signatures(doc, record, t)


def _save(doc: DocumentObject, *, author: str, title: str, locale: str) -> bytes:
    """The file's properties are the bloc's (python-docx's own are "python-docx" and an
    English description); fixed dates, so the same document is the same bytes."""
    buffer = io.BytesIO()
    properties = doc.core_properties
    properties.created = datetime(2000, 1, 1)  # noqa: DTZ001 (docx stores naive)
    properties.modified = datetime(2000, 1, 1)  # noqa: DTZ001
    properties.author = properties.last_modified_by = _xml(author)
    properties.title = _xml(title)
    properties.subject = properties.comments = properties.keywords = ""
    properties.language = LANGUAGES.get(locale, LANGUAGES["vi"])
    doc.save(buffer)
    return restamp(buffer.getvalue())  # the same document, the same bytes


def _page(doc: DocumentObject, locale: str) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    font = style.font
    font.name = FONT
    font.size = Pt(13)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    # Single lines and no space after a paragraph unless asked (python-docx's template gives
    # every paragraph, each table cell's and each signature line's too, 10 pt after and 1.15
    # lines: records ran over their page).
    style.paragraph_format.space_after = Pt(0)
    style.paragraph_format.line_spacing = 1.0
    _language(doc, LANGUAGES.get(locale, LANGUAGES["vi"]))
    _page_numbers(doc)


def _footer_line(doc: DocumentObject, text: str) -> None:
    """A line at the foot of every page (the audit head): never an orphan at the end."""
    section = doc.sections[0]
    for footer in (section.footer, section.first_page_footer):
        paragraph = footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(text)
        run.font.size, run.font.name = Pt(9), FONT


def _language(doc: DocumentObject, language: str) -> None:
    """Every run's language (the defaults and the Normal style; python-docx's are en-US)."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    holders = [doc.styles["Normal"].element.get_or_add_rPr()]
    if defaults is not None:
        run_defaults = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if run_defaults is not None:
            holders.append(run_defaults)
    for rpr in holders:
        for old in rpr.findall(qn("w:lang")):
            rpr.remove(old)
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), language)
        lang.set(qn("w:eastAsia"), language)
        lang.set(qn("w:bidi"), "ar-SA")
        _insert(rpr, lang, "w:lang")


def _page_numbers(doc: DocumentObject) -> None:
    """Page numbers from page 2, centred in the top margin (NĐ 30/2020); none on page 1."""
    section = doc.sections[0]
    section.different_first_page_header_footer = True
    section.header_distance = Mm(10)
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    for run_ in paragraph.runs:
        run_.font.size, run_.font.name = Pt(13), FONT


def _header(
    doc: DocumentObject, issuer: str, number: str, dated: str, t: Callable[[str], str]
) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    _cell(left.paragraphs[0], issuer.upper(), bold=True, size=12)
    _rule(left.add_paragraph(), HEADER_WIDTHS_MM[0], ISSUER_RULE_MM)
    _cell(left.add_paragraph(), t("record.number").format(number=number), size=13)
    _cell(right.paragraphs[0], t("record.nation"), bold=True, size=12)
    _cell(right.add_paragraph(), t("record.motto"), bold=True, size=13)
    _rule(right.add_paragraph(), HEADER_WIDTHS_MM[1], MOTTO_RULE_MM)
    _cell(right.add_paragraph(), dated, italic=True, size=13)
    _widths(table, HEADER_WIDTHS_MM)


def _cell(
    paragraph: Paragraph, text: str, *, bold: bool = False, italic: bool = False, size: int = 13
) -> None:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(_xml(text))
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
    indent_mm: int = 0,
    justify: bool = False,
    keep_with_next: bool = False,
) -> None:
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align  # type: ignore[assignment]
    elif justify:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.space_before = Pt(space_before)
    paragraph.paragraph_format.space_after = Pt(3)
    paragraph.paragraph_format.keep_with_next = keep_with_next or None
    if indent_mm:
        paragraph.paragraph_format.first_line_indent = Mm(indent_mm)
    run = paragraph.add_run(_xml(text))
    run.bold, run.italic = bold, italic
    run.font.size = Pt(size)
    run.font.name = FONT


def _rule(paragraph: Paragraph, cell_mm: int, length_mm: int) -> None:
    """A drawn line, centred in its cell, `length_mm` long: the bottom border of an empty
    paragraph indented from both sides (a line, not typed characters)."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    indent = Mm((cell_mm - length_mm) / 2 - 1)  # the cell's own 1 mm padding each side
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = indent
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.space_after = Pt(6)  # the next line clear of the rule
    paragraph.paragraph_format.line_spacing = Pt(4)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (
        ("w:val", "single"),
        ("w:sz", "6"),
        ("w:space", "1"),
        ("w:color", "000000"),
    ):
        bottom.set(qn(name), value)
    borders.append(bottom)
    _insert(paragraph._p.get_or_add_pPr(), borders, "w:pBdr")


# What may follow an element we add, in its parent, by the OOXML schema (ECMA-376 part 1):
# Word refuses a file whose elements are out of order ("unreadable content"); LibreOffice
# does not mind, so only the order shows it.
_SUCCESSORS = {
    "w:pBdr": (
        "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
        "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
        "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
        "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
        "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
        "w:pPrChange",
    ),
    "w:pgNumType": (
        "w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg", "w:textDirection",
        "w:bidi", "w:rtlGutter", "w:docGrid", "w:printerSettings", "w:sectPrChange",
    ),
    "w:lang": ("w:eastAsianLayout", "w:specVanish", "w:oMath"),
}  # fmt: skip


def _insert(parent: Any, child: Any, name: str) -> None:
    """`child` (the element `name`) where the schema puts it among `parent`'s children."""
    parent.insert_element_before(child, *_SUCCESSORS[name])


def _widths(table: Table, widths_mm: tuple[int, ...]) -> None:
    # LibreOffice ignores cell widths alone: set the grid columns too (stack-notes).
    grid = table._tbl.tblGrid
    for gridcol, width in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=False):
        gridcol.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(width)


SIGNATURE_SPACE = 3  # empty lines between a signer's title and name: room to sign


def _board_signatures(doc: DocumentObject, record: VoteRecord, t: Callable[[str], str]) -> None:
    """Who signs a vote-count record, as offices lay it out: the board's head and the chair
    side by side, each a title, room to sign and the name under it; then the board's other
    members two to a row, each with room to sign above the name. A row never splits across
    pages."""
    head, *members = record.counting_board or ("",)
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    _signer(left, (t("record.sign_board"), t("record.sign_head")), t("record.sign_hint"), head)
    _signer(right, (t("record.sign_chair"), ""), t("record.sign_hint"), record.chair)
    if members:
        title = table.add_row().cells
        merged = title[0].merge(title[1])
        _cell(merged.paragraphs[0], t("record.sign_members"), bold=True)
        merged.paragraphs[0].paragraph_format.space_before = Pt(12)
        for pair in range(0, len(members), 2):
            cells = table.add_row().cells
            for cell, name in zip(cells, members[pair : pair + 2], strict=False):
                _signer(cell, (), "", name)
    _widths(table, (80, 85))
    table.autofit = False  # a fixed layout (w:tblLayout, where the schema puts it)
    for row in table.rows:
        _keep_row(row._tr)


def _signer(cell: _Cell, titles: tuple[str, ...], hint: str, name: str) -> None:
    """One signer in a cell: title lines (bold), the hint, room to sign, the name (bold)."""
    lines = [(title, True, False) for title in titles]
    if hint:
        lines.append((hint, False, True))
    lines += [("", False, False)] * SIGNATURE_SPACE
    lines.append((name, True, False))
    for index, (text, bold, italic) in enumerate(lines):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        _cell(paragraph, text, bold=bold, italic=italic, size=12 if italic else 13)


def _keep_row(tr: Any) -> None:
    """A table row is never split across two pages."""
    properties = tr.get_or_add_trPr()
    properties.append(OxmlElement("w:cantSplit"))


# --- the minutes and the proposal memo ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a document's body, its words already written (never markup)."""

    text: str = ""
    style: str = "p"  # "h" section heading, "p" paragraph, "li" list item, "i" italic
    table: tuple[tuple[str, ...], ...] = ()  # a table instead of text: header row first
    widths_mm: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class OfficialDocument:
    """A document in the NĐ 30/2020 layout: header, title, body, signatures, "Nơi nhận"."""

    issuer: str
    number: str  # "01/BB-KTĐVHXH", "01/TTr-KTĐVHXH"
    dated: str  # the place-and-date line, as written
    title: str  # "BIÊN BẢN", "TỜ TRÌNH"
    subject: str
    body: tuple[Block, ...]
    sign_left: tuple[str, ...]  # title lines (bold), then "" and the name
    sign_right: tuple[str, ...]
    recipients_title: str  # "Nơi nhận:"
    recipients: tuple[str, ...]  # "- Lưu: VT."
    addressee: str = ""  # "Kính gửi: …" (a memo)
    footer: str = ""  # the audit head


def official_docx(
    document: OfficialDocument, t: Callable[[str], str], *, locale: str = "vi"
) -> bytes:
    """The minutes (biên bản hội nghị) or the proposal memo (tờ trình) as DOCX."""
    doc = Document()
    _page(doc, locale)
    _header(doc, document.issuer, document.number, document.dated, t)
    _para(
        doc,
        _xml(document.title),
        bold=True,
        size=14,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space_before=12,
    )
    _para(doc, _xml(document.subject), bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    if document.addressee:
        _para(doc, _xml(document.addressee), align=WD_ALIGN_PARAGRAPH.CENTER, space_before=6)
    after_table = False
    for block in document.body:
        if block.table:
            if doc.paragraphs:  # what introduces a table stays with it
                doc.paragraphs[-1].paragraph_format.keep_with_next = True
            _table(doc, block.table, block.widths_mm)
            after_table = True
            continue
        text = _xml(block.text)
        gap = 6 if after_table else 0
        after_table = False
        if block.style == "h":  # a heading never ends a page: it goes with its section
            _para(doc, text, bold=True, space_before=6, keep_with_next=True)
        elif block.style == "i":
            _para(doc, text, italic=True, space_before=6)
        else:
            indent = 10 if block.style == "p" else 5
            _para(doc, text, indent_mm=indent, justify=True, space_before=gap)
    if doc.paragraphs:  # the signatures never start a page alone
        doc.paragraphs[-1].paragraph_format.keep_with_next = True
    _signatures_of(doc, document)
    if document.footer:
        _footer_line(doc, _xml(document.footer))
    title = f"{document.title.capitalize()}: {document.subject}"
    return _save(doc, author=document.issuer, title=title, locale=locale)


def _table(
    doc: DocumentObject, rows: tuple[tuple[str, ...], ...], widths: tuple[int, ...]
) -> None:
    table = doc.add_table(rows=0, cols=len(rows[0]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for number, row in enumerate(rows):
        added = table.add_row()
        _keep_row(added._tr)
        for column, (cell, text) in enumerate(zip(added.cells, row, strict=True)):
            _cell(cell.paragraphs[0], _xml(text), bold=number == 0, size=12)
            if column == 1 and number:  # names read from the left; numbers stay centred
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.LEFT
            # A table is kept on one page where it fits (each row kept with the next).
            cell.paragraphs[0].paragraph_format.keep_with_next = number < len(rows) - 1
    if widths:
        _widths(table, widths)


def _signatures_of(doc: DocumentObject, document: OfficialDocument) -> None:
    """Signatures side by side; "Nơi nhận" in the left column when nobody signs there (a
    memo), else under the signatures (the minutes: secretary left, chair right)."""
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    recipients_left = not document.sign_left
    for cell, lines in ((left, document.sign_left), (right, document.sign_right)):
        first = True
        for line in lines:
            paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
            first = False
            _cell(paragraph, _xml(line), bold=line.isupper())
    if recipients_left:
        _recipients(left, document, first=True)
    _widths(table, (80, 85))
    table.autofit = False  # a fixed layout (w:tblLayout, where the schema puts it)
    _keep_row(table.rows[0]._tr)
    if not recipients_left:
        cell = doc.add_table(rows=1, cols=1).rows[0].cells[0]
        _recipients(cell, document, first=True)


def _recipients(cell: _Cell, document: OfficialDocument, *, first: bool) -> None:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(12)
    run = paragraph.add_run(_xml(document.recipients_title))
    run.bold, run.italic = True, True
    run.font.size, run.font.name = Pt(12), FONT
    for line in document.recipients:
        run = cell.add_paragraph().add_run(_xml(line))
        run.font.size, run.font.name = Pt(11), FONT


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text as XML can hold it: python-docx escapes <, > and &; control characters, which
    XML 1.0 cannot hold at all, are dropped (they never come from the chat, but a file may)."""
    return _XML_BAD.sub("", text)
