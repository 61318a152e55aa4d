"""PDF copies for digital signing (bot/services/pdf.py): a real LibreOffice conversion — the
page count, every font embedded, the Vietnamese words extractable with their diacritics — and
the golden checks on the rendered pages (tests/rendered.py), shown to catch a scrap page, a
missing page number, text outside the margins and a name with no room to sign. Without
LibreOffice, or when it fails or hangs, no PDF is made and nothing else is lost.

The documents are converted once for the whole session (`rendered`): LibreOffice takes a
second or two a file."""

from __future__ import annotations

import asyncio
import io
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_BREAK
from docx.shared import Mm, Pt

from bot.config import load_settings
from bot.services.documents import (
    Block,
    OfficialDocument,
    RecordRow,
    official_docx,
    vote_records_docx,
)
from bot.services.pdf import PdfConverter, PdfNote, beside, find_soffice, pdf_name
from tests.rendered import fonts, layout_text, page_count, problems, signers, soffice_path
from tests.services.test_documents import HEAD, RECORD, t_vi

AUDIT = "Mã kiểm chứng nhật ký"
UNITS = (
    "Sở Khoa học và Công nghệ",
    "Đài Phát thanh - Truyền hình tỉnh",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Lao động - Thương binh và Xã hội",
    "Sở Thông tin và Truyền thông",
    "Báo Điện Biên Phủ",
    "Trường Cao đẳng Y tế Điện Biên",
    "Trường Cao đẳng Sư phạm Điện Biên",
)
BOARD = ("Quàng Thị Mai", "Trần Đức Long", "Đỗ Thị Yến")


def _records() -> bytes:
    """Vote-count records as the demo's: ten units, a board of three; the third with so many
    candidates it takes two pages (its own page 2 is numbered)."""
    rows = tuple(RecordRow(u, 9 - i, (9 - i) * 100, i == 0) for i, u in enumerate(UNITS))
    many = tuple(RecordRow(f"{u} ({n})", 1, 100, False) for n in range(5) for u in UNITS)
    demo = replace(RECORD, rows=rows, counting_board=BOARD, base_count=10)
    return vote_records_docx(
        [demo, replace(demo, number="02/BB-KTĐVHXH"), replace(demo, rows=many)], t_vi
    )


def _official(body: tuple[Block, ...], *, memo: bool) -> bytes:
    sign_left = () if memo else ("THƯ KÝ", "", "", "", "Lò Thị Hương")
    sign_right = (
        ("TM. KHỐI THI ĐUA", "TRƯỞNG KHỐI", "", "", "", "Nguyễn Văn Thành")
        if memo
        else ("CHỦ TỌA", "", "", "", "Nguyễn Văn Thành")
    )
    return official_docx(
        OfficialDocument(
            issuer="Khối thi đua Văn hóa - Xã hội",
            number="01/TTr-KTĐVHXH" if memo else "01/BB-KTĐVHXH",
            dated="Điện Biên, ngày 20 tháng 12 năm 2022",
            title="TỜ TRÌNH" if memo else "BIÊN BẢN",
            subject="Hội nghị tổng kết công tác thi đua, khen thưởng năm 2022",
            body=body,
            sign_left=sign_left,
            sign_right=sign_right,
            recipients_title="Nơi nhận:",
            recipients=("- Như trên;", "- Lưu: VT."),
            addressee="Kính gửi: Hội đồng Thi đua - Khen thưởng tỉnh" if memo else "",
            footer="" if memo else f"{AUDIT}: {HEAD}",
        ),
        t_vi,
    )


def _minutes() -> bytes:
    """Minutes as long as the demo's: eight ballots, each a table of the ten units."""
    body: list[Block] = [Block("I. THỜI GIAN, ĐỊA ĐIỂM", "h"), Block("Thời gian: 08 giờ 00.")]
    for n in range(1, 9):
        body.append(Block(f"{n}. Đề nghị tặng Cờ thi đua của Chính phủ (bỏ phiếu kín)", "li"))
        body.append(Block("Số phiếu phát ra: 10; số phiếu thu về: 10; số phiếu hợp lệ: 10."))
        rows = tuple((str(i), u, "7", "70,0%") for i, u in enumerate(UNITS, 1))
        table = (("STT", "Nội dung / Đơn vị", "Số phiếu", "Tỷ lệ"), *rows)
        body.append(Block(table=table, widths_mm=(15, 100, 25, 25)))
        body.append(Block("Kết quả: đề nghị Sở Y tế."))
    body += [Block("V. KẾT LUẬN", "h"), Block("Hội nghị kết thúc vào hồi 11 giờ 01 cùng ngày.")]
    return _official(tuple(body), memo=False)


def _memo() -> bytes:
    body = (
        Block("Căn cứ Luật Thi đua, khen thưởng số 06/2022/QH15 ngày 15 tháng 6 năm 2022;"),
        Block("1. Cờ thi đua của Chính phủ: 01 đơn vị", "li"),
        Block(table=(("STT", "Đơn vị"), ("1", "Đài Phát thanh - Truyền hình tỉnh"))),
        Block("Kính đề nghị Hội đồng Thi đua - Khen thưởng tỉnh xem xét, quyết định./."),
    )
    return _official(body, memo=True)


def _plain(lines: list[str], *, page_break_before_last: bool = False) -> DocumentObject:
    """A DOCX with the decree's margins and no page numbers (for the checks' own tests)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    for index, line in enumerate(lines):
        paragraph = doc.add_paragraph(line)
        if page_break_before_last and index == len(lines) - 1:
            paragraph.paragraph_format.page_break_before = True
    return doc


def _saved(doc: DocumentObject) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _scrap() -> bytes:
    """A page of text, then a page holding one stray name."""
    lines = [f"Dòng thứ {n} của biên bản." for n in range(20)]
    return _saved(_plain([*lines, "Lò Thị Hương"], page_break_before_last=True))


def _unnumbered() -> bytes:
    return _saved(_plain([f"Dòng thứ {n} của biên bản hội nghị." for n in range(90)]))


def _outside() -> bytes:
    doc = _plain([f"Dòng thứ {n}." for n in range(5)])
    doc.paragraphs[2].paragraph_format.left_indent = Mm(-20)  # into the binding margin
    return _saved(doc)


def _cramped() -> bytes:
    """A signature whose "room to sign" is three empty lines of 1 pt: no room at all."""
    doc = _plain([f"Dòng thứ {n} của biên bản." for n in range(5)])
    cell = doc.add_table(rows=1, cols=2).rows[0].cells[1]
    cell.paragraphs[0].add_run("CHỦ TỌA")
    for _ in range(3):
        paragraph = cell.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.add_run("").font.size = Pt(1)
        paragraph.paragraph_format.line_spacing = Pt(1)
    cell.add_paragraph("Nguyễn Văn Thành")
    return _saved(doc)


def _alone() -> bytes:
    """The signatures pushed onto a page of their own, away from the text above."""
    doc = _plain([f"Dòng thứ {n} của biên bản." for n in range(20)])
    doc.paragraphs[-1].runs[-1].add_break(WD_BREAK.PAGE)
    cell = doc.add_table(rows=1, cols=2).rows[0].cells[1]
    cell.paragraphs[0].add_run("CHỦ TỌA")
    for line in ("", "", "", "Nguyễn Văn Thành"):
        cell.add_paragraph(line)
    return _saved(doc)


@dataclass(frozen=True, slots=True)
class Rendered:
    docx: bytes
    pdf: Path


SOURCES = {
    "records": _records,
    "minutes": _minutes,
    "memo": _memo,
    "scrap": _scrap,
    "unnumbered": _unnumbered,
    "outside": _outside,
    "cramped": _cramped,
    "alone": _alone,
}


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """Every document above through the service, converted once for the session."""
    converter = PdfConverter(soffice_path())
    docs = {name: build() for name, build in SOURCES.items()}

    async def convert() -> list[bytes | None]:
        return await asyncio.gather(*(converter.convert(data) for data in docs.values()))

    out = tmp_path_factory.mktemp("rendered")
    found = {}
    for (name, data), pdf in zip(docs.items(), asyncio.run(convert()), strict=True):
        assert pdf is not None, f"LibreOffice could not convert {name}"
        (out / f"{name}.pdf").write_bytes(pdf)
        found[name] = Rendered(data, out / f"{name}.pdf")
    return found


def test_a_conversion_embeds_every_font_and_keeps_the_vietnamese_words(
    rendered: dict[str, Rendered],
) -> None:
    records = rendered["records"].pdf
    assert records.read_bytes().startswith(b"%PDF")
    assert page_count(records) == 4  # three records, the third on two pages
    used = fonts(records)
    assert used
    assert [name for name, embedded in used if not embedded] == []
    first = "".join(layout_text(records, 1).split())
    for words in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BIÊN BẢN",
        "Kiểm phiếu: Đề nghị tặng Cờ thi đua của Chính phủ",
        "Trường Cao đẳng Sư phạm Điện Biên",
    ):
        assert "".join(words.split()) in first, words
    for name in ("minutes", "memo"):
        assert [f for f, embedded in fonts(rendered[name].pdf) if not embedded] == []


@pytest.mark.parametrize(("name", "pages"), [("records", 4), ("minutes", 4), ("memo", 1)])
def test_the_rendered_pages_pass_the_golden_checks(
    rendered: dict[str, Rendered], name: str, pages: int
) -> None:
    """No blank or scrap page, page numbers from each document's page 2 centred above the
    text, nothing outside the text area (the header included), every signer's name under
    room to sign, under its title, on the page of the text above."""
    doc = rendered[name]
    assert page_count(doc.pdf) <= pages
    assert signers(doc.docx)
    assert problems(doc.pdf, doc.docx, footer=AUDIT) == []


def test_the_golden_checks_catch_what_an_officer_would_refuse(
    rendered: dict[str, Rendered],
) -> None:
    def found(name: str) -> list[str]:
        return problems(rendered[name].pdf, rendered[name].docx)

    assert "page 2 is blank or a scrap: ['Lò Thị Hương']" in found("scrap")
    assert "page 2: no page number 2 in the top margin" in found("unnumbered")
    assert "page 1: 'Dòng thứ 2.' runs outside the text area" in found("outside")
    assert signers(rendered["cramped"].docx) == [("CHỦ TỌA", "Nguyễn Văn Thành")]
    assert (
        "signer 'Nguyễn Văn Thành' (under 'CHỦ TỌA'): 0 of 1 signature(s) under room to sign "
        "below the title, on a page with the text above"
    ) in found("cramped")
    assert found("alone") == [
        "page 2 is blank or a scrap: ['CHỦ TỌA', 'Nguyễn Văn Thành']",
        "page 2: no page number 2 in the top margin",
        "signer 'Nguyễn Văn Thành' (under 'CHỦ TỌA'): 0 of 1 signature(s) under room to sign "
        "below the title, on a page with the text above",
    ]


# --- without LibreOffice, and when it fails ----------------------------------------------------


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


# A stand-in for soffice: logs its profile, writes a PDF where LibreOffice would.
FAKE = """for a in "$@"; do
  case "$a" in -env:UserInstallation=*) echo "$a" >> "$LOG";; esac
  [ "$prev" = "--outdir" ] && out="$a"
  prev="$a"
done
mkdir -p "$out" && printf '%%PDF-1.7 fake' > "$out/document.pdf"
"""


@pytest.fixture
def fake_soffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOG", str(tmp_path / "profiles.log"))
    return _script(tmp_path, "soffice", FAKE)


def test_the_setting_finds_libreoffice_or_says_it_is_not_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_soffice: str
) -> None:
    monkeypatch.setenv("DOCS__SOFFICE", str(tmp_path / "missing" / "soffice"))
    assert find_soffice(load_settings().docs.soffice) is None  # a missing program
    for off in ("off", "OFF", "no", "disabled"):
        assert find_soffice(off) is None
    monkeypatch.setenv("DOCS__SOFFICE", fake_soffice)
    assert find_soffice(load_settings().docs.soffice) == fake_soffice
    monkeypatch.setenv("PATH", str(tmp_path))  # unset: the soffice found on PATH
    assert find_soffice(None) == fake_soffice
    assert find_soffice("soffice") == fake_soffice
    monkeypatch.setenv("PATH", str(tmp_path / "missing"))
    assert find_soffice(None) is None
    assert pdf_name("bien-ban-hoi-nghi.docx") == "bien-ban-hoi-nghi.pdf"


async def test_without_libreoffice_every_docx_goes_and_the_note_says_why() -> None:
    converter = PdfConverter(None)
    assert not converter.available
    assert await converter.convert(b"PK") is None
    files = [("a.docx", b"PK-a"), ("b.docx", b"PK-b")]
    delivered, note, failed = await beside(converter, files)
    assert [(d.name, d.docx, d.pdf) for d in delivered] == [
        ("a.docx", b"PK-a", None),
        ("b.docx", b"PK-b", None),
    ]
    assert (note, failed) == (PdfNote.NOT_INSTALLED, [])


async def test_each_conversion_has_its_own_profile(tmp_path: Path, fake_soffice: str) -> None:
    converter = PdfConverter(fake_soffice)
    files = [(f"{n}.docx", b"PK") for n in range(3)]
    delivered, note, failed = await beside(converter, files)
    assert [d.pdf for d in delivered] == [b"%PDF-1.7 fake"] * 3
    assert [d.pdf_name for d in delivered] == ["0.pdf", "1.pdf", "2.pdf"]
    assert (note, failed) == (None, [])
    profiles = (tmp_path / "profiles.log").read_text().split()
    assert len(profiles) == 3
    assert len(set(profiles)) == 3  # never shared: concurrent soffice would wait or fail
    assert all(p.startswith("-env:UserInstallation=file:///") for p in profiles)


async def test_a_failing_or_hanging_libreoffice_loses_no_docx(tmp_path: Path) -> None:
    failing = PdfConverter(_script(tmp_path, "failing", "echo 'Error: source file' >&2\nexit 1\n"))
    delivered, note, failed = await beside(failing, [("a.docx", b"PK-a"), ("b.docx", b"PK-b")])
    assert [(d.name, d.docx, d.pdf) for d in delivered] == [
        ("a.docx", b"PK-a", None),
        ("b.docx", b"PK-b", None),
    ]
    assert (note, failed) == (PdfNote.FAILED, ["a.docx", "b.docx"])
    # Exits 0 but writes nothing: no PDF either.
    assert await PdfConverter(_script(tmp_path, "silent", "exit 0\n")).convert(b"PK") is None

    pid_file = tmp_path / "pid"
    hanging = PdfConverter(
        _script(tmp_path, "hanging", f"echo $$ > {pid_file}\nexec sleep 600\n"), timeout=1
    )
    assert await hanging.convert(b"PK") is None
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # stopped, not left running
        os.kill(pid, 0)
    assert await PdfConverter(str(tmp_path / "vanished")).convert(b"PK") is None
