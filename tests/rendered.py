"""Documents as a reader sees them: a PDF's pages (poppler's pdftotext, pdfinfo, pdffonts) read
back line by line with their place on the page, and the golden checks every rendered document
must pass — no blank or scrap page, page numbers from page 2 centred in the top margin,
nothing outside the text area (the header included), every signer's name under room to sign
on the same page as its title and the text above. Tests needing LibreOffice use
`soffice_path()`: under CI its absence fails the test, elsewhere it skips with the reason."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from docx import Document

from tests.conftest import IN_CI

MM = 72 / 25.4  # points in a millimetre
LEFT, RIGHT = 30 * MM, 15 * MM  # NĐ 30/2020 margins (left 30 mm, right 15 mm)
SLACK = 2.0  # points: a glyph's side bearing may reach past the margin by a hair
SIGN_ROOM = 30.0  # points of empty height, at the least, between a signer's title and name
NS = "{http://www.w3.org/1999/xhtml}"
NATIONAL = "CỘNGHÒAXÃHỘICHỦNGHĨAVIỆTNAM"  # the national title: a document's first page


def soffice_path() -> str:
    """LibreOffice's program; missing: fails under CI (.ci/run installs it), else skips."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    tools = all(shutil.which(t) for t in ("pdftotext", "pdfinfo", "pdffonts"))
    if found is None or not tools:
        message = (
            "LibreOffice (soffice) or poppler-utils is not installed: apt-get install "
            "libreoffice-writer-nogui fonts-liberation2 poppler-utils (.ci/run installs them)"
        )
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    assert found is not None
    return found


@dataclass(frozen=True, slots=True)
class Line:
    """A line of text as poppler finds it (columns apart), in points from the top left."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def squashed(self) -> str:
        """The text without spaces: pdftotext splits words at some stacked diacritics."""
        return "".join(self.text.split())


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    width: float
    height: float
    lines: tuple[Line, ...]

    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def pages(pdf: Path) -> list[Page]:
    """Every page's lines, top to bottom (`pdftotext -bbox-layout`)."""
    xhtml = _run("pdftotext", "-bbox-layout", str(pdf), "-")
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xhtml, count=1))
    found = []
    for number, page in enumerate(root.iter(f"{NS}page"), start=1):
        lines = []
        for line in page.iter(f"{NS}line"):
            words = list(line.iter(f"{NS}word"))
            text = ""
            for index, word in enumerate(words):
                # A word split at a diacritic comes back as two touching "words": rejoined.
                gap = float(word.get("xMin", 0)) - float(words[index - 1].get("xMax", 0))
                text += ("" if index == 0 or gap < 1.0 else " ") + (word.text or "")
            x0, y0, x1, y1 = (float(line.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax"))
            lines.append(Line(x0, y0, x1, y1, text))
        lines.sort(key=lambda ln: (round(ln.y0), ln.x0))
        width, height = float(page.get("width", 0)), float(page.get("height", 0))
        found.append(Page(number, width, height, tuple(lines)))
    return found


def page_count(pdf: Path) -> int:
    found = re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(pdf)), re.M)
    assert found is not None
    return int(found.group(1))


def fonts(pdf: Path) -> list[tuple[str, bool]]:
    """Each font of the PDF and whether it is embedded (`pdffonts`' "emb" column)."""
    rows = _run("pdffonts", str(pdf)).splitlines()[2:]
    found = []
    for row in rows:
        # name, type (may hold spaces), encoding, emb, sub, uni, object id, generation
        cells = row.split()
        found.append((cells[0], cells[-5] == "yes"))
    return found


def layout_text(pdf: Path, page: int) -> str:
    """One page as `pdftotext -layout` lays it out."""
    return _run("pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-")


def signers(docx: bytes) -> list[tuple[str, str]]:
    """Who signs a document, read from the DOCX, once per signature: in a table cell, a name
    that follows empty lines (the room to sign), with the line above that room (its title or
    the hint; "" for a name with none, as the board's other members)."""
    found = []
    for table in Document(io.BytesIO(docx)).tables:
        seen = set()
        for row in table.rows:
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell comes back in each row it spans
                    continue
                seen.add(id(cell._tc))
                texts = [p.text.strip() for p in cell.paragraphs]
                for index, text in enumerate(texts):
                    empties = 0
                    while empties < index and not texts[index - empties - 1]:
                        empties += 1
                    if text and empties >= 2:
                        above = texts[index - empties - 1] if index > empties else ""
                        found.append((above, text))
    return found


def _is_page_number(line: Line) -> bool:
    """A number alone in the top margin (NĐ 30/2020: centred there, from page 2)."""
    return line.text.strip().isdecimal() and line.y1 < 25 * MM


def content(page: Page, footer: str) -> list[Line]:
    """A page's lines but its number and the footer line (its text starts with `footer`)."""
    return [
        ln
        for ln in page.lines
        if not _is_page_number(ln) and not (footer and ln.text.startswith(footer))
    ]


def problems(pdf: Path, docx: bytes, *, footer: str = "") -> list[str]:
    """What an officer would refuse on the rendered pages (empty: none)."""
    found: list[str] = []
    rendered = pages(pdf)
    first = 1  # the page where the current document (one vote-count record of many) starts
    for page in rendered:
        where = f"page {page.number}"
        body = content(page, footer)
        if len(body) < 3:
            texts = [ln.text for ln in body]
            found.append(f"{where} is blank or a scrap: {texts}")
        if any(ln.squashed == NATIONAL for ln in page.lines):
            first = page.number  # a document's first page: its numbering starts again
        own = page.number - first + 1
        numbers = [ln for ln in page.lines if _is_page_number(ln)]
        if own == 1 and numbers:
            found.append(f"{where} (a first page) carries a page number ({numbers[0].text})")
        if own > 1:
            centre = LEFT + (page.width - LEFT - RIGHT) / 2
            if [ln.text.strip() for ln in numbers] != [str(own)]:
                found.append(f"{where}: no page number {own} in the top margin")
            elif abs((numbers[0].x0 + numbers[0].x1) / 2 - centre) > 15:
                found.append(f"{where}: the page number is not centred")
            elif body and numbers[0].y1 > min(ln.y0 for ln in body):
                found.append(f"{where}: the page number is not above the text")
        for ln in page.lines:
            if ln.x0 < LEFT - SLACK or ln.x1 > page.width - RIGHT + SLACK:
                found.append(f"{where}: {ln.text!r} runs outside the text area")
    found += _signature_problems(rendered, signers(docx), footer)
    return found


def _signature_problems(
    rendered: list[Page], expected: list[tuple[str, str]], footer: str
) -> list[str]:
    """Each signature: the name under room to sign (nothing in its column for SIGN_ROOM
    points above it), under its title, on a page that holds text above the signatures."""
    if not expected:
        return ["no signer found in the document"]
    found = []
    for (title, name), wanted in Counter(expected).items():
        placed = sum(
            _well_placed(ln, content(page, footer), title)
            for page in rendered
            for ln in content(page, footer)
            if ln.squashed == "".join(name.split())
        )
        if placed < wanted:
            found.append(
                f"signer {name!r} (under {title!r}): {placed} of {wanted} signature(s) under "
                "room to sign below the title, on a page with the text above"
            )
    return found


def _well_placed(name: Line, body: list[Line], title: str) -> bool:
    column = [o for o in body if o.y1 <= name.y0 and o.x0 < name.x1 and o.x1 > name.x0]
    above = max(column, key=lambda o: o.y1, default=None)
    if above is None or name.y0 - above.y1 < SIGN_ROOM:
        return False
    titles = [o for o in column if "".join(title.split()) in o.squashed] if title else [above]
    if not titles:
        return False
    top = min(o.y0 for o in titles)
    # The signatures are kept with the text above them: some of it on this page.
    return any(o.y1 <= top for o in body)
