"""Hostile files, generated in code (never committed binaries): renamed programs, polyglots,
decompression bombs up to the size limits, broken XML, a sheet row of 16,384 cells.

A bomb's member is one deflate stream made of a compressed piece repeated: each piece ends
with a full flush (byte-aligned, no reference to earlier data), so a few kilobytes of
repeated pieces stand for gigabytes, and the stream is built in milliseconds.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from tests.handlers.support import docx_bytes, xlsx_bytes

ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(200)
PE = (  # a DOS stub whose header points at the "PE" signature, as every .exe starts
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8"
    + bytes(39)
    + b"\x80\x00\x00\x00"
    + bytes(64)
    + b"PE\x00\x00"
    + bytes(200)
)
PDF = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
_SHEET_END = "</sheetData></worksheet>"
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@dataclass(frozen=True)
class Entry:
    """A member as written: its raw (already compressed) bytes and what it declares."""

    name: str
    raw: bytes
    crc: int
    size: int
    method: int = zipfile.ZIP_DEFLATED


def members_of(data: bytes) -> list[Entry]:
    """Every member of a real archive, recompressed as it is."""
    entries = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            content = archive.read(info)
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            raw = packer.compress(content) + packer.flush()
            entries.append(Entry(info.filename, raw, zlib.crc32(content), len(content)))
    return entries


def archive(entries: Sequence[Entry], prefix: bytes = b"") -> bytes:
    """A ZIP archive of these entries, written by hand (zipfile cannot take raw deflate),
    after `prefix` (a polyglot's other head)."""
    out = io.BytesIO()
    out.write(prefix)
    directory = io.BytesIO()
    for entry in entries:
        name = entry.name.encode()
        offset = out.tell()
        fields = (20, 0, entry.method, 0, 0x21, entry.crc, len(entry.raw), entry.size)
        out.write(struct.pack("<4s5HI2I2H", b"PK\x03\x04", *fields, len(name), 0))
        out.write(name)
        out.write(entry.raw)
        header = (b"PK\x01\x02", 20, *fields, len(name), 0, 0, 0, 0, 0, offset)
        directory.write(struct.pack("<4s6HI2I5H2I", *header))
        directory.write(name)
    start = out.tell()
    listing = directory.getvalue()
    out.write(listing)
    count = len(entries)
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(listing), start, 0))
    return out.getvalue()


CRC_UP_TO = 64 * 1024 * 1024


def repeated(head: str, piece: str, tail: str, times: int) -> Entry:
    """A member `head + piece * times + tail` as one deflate stream of repeated pieces. Past
    64 MB its CRC is left 0 (computing it would cost the full size): a parser reading to the
    end finds it wrong, after all the work a bomb costs."""
    parts = [s.encode() for s in (head, piece, tail)]
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(parts[0]) + packer.flush(zlib.Z_FULL_FLUSH)
    middle = packer.compress(parts[1]) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.compress(parts[2]) + packer.flush()
    size = len(parts[0]) + len(parts[1]) * times + len(parts[2])
    crc = 0
    if size <= CRC_UP_TO:
        crc = zlib.crc32(parts[0])
        for _ in range(times):
            crc = zlib.crc32(parts[1], crc)
        crc = zlib.crc32(parts[2], crc)
    # Past 4 GB a ZIP needs ZIP64 fields: this one declares 4 GB - 1 and holds more.
    return Entry("", start + middle * times + end, crc, min(size, 2**32 - 1))


def _replace(real: bytes, name: str, member: Entry) -> bytes:
    entries = [e for e in members_of(real) if e.name != name]
    return archive([*entries, Entry(name, member.raw, member.crc, member.size, member.method)])


def real_xlsx() -> bytes:
    return xlsx_bytes([("Tên đơn vị", "Tên viết tắt"), ("Sở Tư pháp", "STP")])


def real_docx(text: str = "Các đơn vị cam kết thi đua năm 2025.") -> bytes:
    return docx_bytes(text)


@functools.cache
def xlsx_bomb(compressed: int) -> bytes:
    """An XLSX of about `compressed` bytes whose sheet declares and inflates to rows of
    cells by the hundred thousand per kilobyte."""
    row = "<row>" + "<c><v>1</v></c>" * 64 + "</row>"
    piece = repeated("", row * 4_000, "", 1)
    times = max(1, compressed // len(piece.raw))
    sheet = repeated(f"<worksheet {_S}><sheetData>", row * 4_000, _SHEET_END, times)
    return _replace(real_xlsx(), "xl/worksheets/sheet1.xml", sheet)


def wide_xlsx(rows: int = 1_000) -> bytes:
    """An XLSX whose rows have 16,384 cells each (every column Excel has)."""
    row = "<row>" + "<c><v>1</v></c>" * 16_384 + "</row>"
    sheet = repeated(f"<worksheet {_S}><sheetData>", row, _SHEET_END, rows)
    return _replace(real_xlsx(), "xl/worksheets/sheet1.xml", sheet)


@functools.cache
def docx_bomb(compressed: int) -> bytes:
    """A DOCX of about `compressed` bytes whose body inflates to paragraphs by the million."""
    paragraph = "<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    piece = repeated("", paragraph * 4_000, "", 1)
    times = max(1, compressed // len(piece.raw))
    body = repeated(
        f"<w:document {_W}><w:body>", paragraph * 4_000, "</w:body></w:document>", times
    )
    return _replace(real_docx(), "word/document.xml", body)


def tiny_bomb() -> bytes:
    """A few kilobytes declaring gigabytes: the sizes in the directory say 4 GB - 1."""
    member = repeated("", "\x00" * 1_000_000, "", 1)
    return archive([Entry("xl/worksheets/sheet1.xml", member.raw, 0, 2**32 - 1)])


def broken_docx() -> bytes:
    """A DOCX whose document.xml is not well-formed XML."""
    broken = f"<w:document {_W}><w:body><w:p><w:r><w:t>x</w:r></w:body>".encode()
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = packer.compress(broken) + packer.flush()
    member = Entry("", raw, zlib.crc32(broken), len(broken))
    return _replace(real_docx(), "word/document.xml", member)


def polyglot_pdf_zip(inner: bytes, size: int = 0) -> bytes:
    """A PDF with a ZIP archive (`inner`, e.g. a DOCX) after it: both readers open it.
    `size`: the PDF part padded so the whole is about that large."""
    return archive(members_of(inner), prefix=PDF + bytes(max(0, size - len(inner) - len(PDF))))


def polyglot_zip_pdf(inner: bytes) -> bytes:
    """A ZIP (e.g. a DOCX) whose first member is stored and starts "%PDF-": a PDF reader,
    which looks for that header in the first kilobyte, opens it too."""
    stored = PDF
    first = Entry("aaa.pdf", stored, zlib.crc32(stored), len(stored), zipfile.ZIP_STORED)
    return archive([first, *members_of(inner)])


@functools.cache
def hostile_files() -> tuple[tuple[str, str, bytes], ...]:
    """(what, extension it is sent as, content): one of each hostile kind, the bombs at the
    2 MB import limit and the 20 MB report limit."""
    docx = real_docx()
    return (
        ("ELF program", "docx", ELF),
        ("Windows program", "xlsx", PE),
        ("Windows program", "csv", PE),
        ("Windows program", "yaml", PE),
        ("ELF program", "pdf", ELF),
        ("PDF with a ZIP after it", "pdf", polyglot_pdf_zip(docx)),
        ("PDF with a ZIP after it", "docx", polyglot_pdf_zip(docx)),
        ("ZIP starting %PDF-", "docx", polyglot_zip_pdf(docx)),
        ("a few KB declaring 4 GB", "xlsx", tiny_bomb()),
        ("XLSX bomb at 2 MB", "xlsx", xlsx_bomb(2 * 1024 * 1024 - 16_384)),
        ("DOCX bomb at 1 MB", "docx", docx_bomb(1024 * 1024 - 40_000)),
        ("DOCX bomb at 20 MB", "docx", docx_bomb(20 * 1024 * 1024 - 40_000)),
        ("16,384 cells in a row", "xlsx", wide_xlsx(rows=1)),
        ("broken XML", "docx", broken_docx()),
        ("a DOCX named XLSX", "xlsx", docx),
    )


def at_size(data: bytes, size: int) -> bytes:
    """`data` padded to `size` bytes, or as it is when already that large."""
    return data + bytes(max(0, size - len(data)))
