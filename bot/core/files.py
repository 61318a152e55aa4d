"""What an uploaded file's content must be for the type its name declares.

A name is only a claim: a program renamed `.docx` has the right name. The content is judged
here from facts a service reads without parsing the document (what a detection library
recognises at its start, the ZIP archive's central directory): the right kind of content,
one kind only (a PDF that is also a ZIP archive is refused), the parts a DOCX, XLSX or ODT
always has, and an archive whose declared sizes stay within limits, so no parser is ever
handed a decompression bomb. Python's zipfile never inflates a member past the size its
directory declares, so the declared sizes bound what parsing can expand to.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class ContentProblem(enum.StrEnum):
    MISMATCH = "mismatch"  # the content is not what the name says (a program named .docx)
    POLYGLOT = "polyglot"  # the content is two kinds at once (a PDF that is also a ZIP)
    BOMB = "bomb"  # an archive that would expand past the limits, or of too many parts
    BROKEN = "broken"  # the right kind, but damaged or missing its required parts
    WIDE = "wide"  # a sheet row of more cells than MAX_CELLS_PER_ROW
    LONG = "long"  # a document of more paragraphs than MAX_PARAGRAPHS
    OVER_LIMITS = "over_limits"  # parsing took more than PARSE_SECONDS or PARSE_MEMORY


# Parsing runs in a child process under these limits (bot/services/sandbox.py); a sheet row
# or a document is refused past these counts, named in the refusal.
PARSE_SECONDS = 10
PARSE_MEMORY = 512 * 1024 * 1024
MAX_CELLS_PER_ROW = 100  # a unit list or a scoring table has five columns or so
MAX_PARAGRAPHS = 2_000  # a covenant is at most 3,500 characters


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How far a ZIP-based file may expand: members, their declared total, the ratio."""

    members: int
    total_bytes: int
    ratio: int  # declared uncompressed bytes per byte of the file


# A file we parse (imports, the covenant) is small: 2 MB of XLSX is at most a few MB of XML.
PARSED_LIMITS = ArchiveLimits(members=1_000, total_bytes=16 * 1024 * 1024, ratio=200)
# A report file is only stored and passed on; it must still open on the secretariat's PC.
STORED_LIMITS = ArchiveLimits(members=5_000, total_bytes=256 * 1024 * 1024, ratio=200)


@dataclass(frozen=True, slots=True)
class Member:
    """One entry of a ZIP archive's central directory, as declared (nothing inflated)."""

    name: str
    compressed: int
    size: int


# ZIP-based kinds and the parts each always has (Word, Excel, LibreOffice and Google Docs
# all write these names); ODF also names its kind in a stored "mimetype" member.
ZIP_PARTS: Mapping[str, frozenset[str]] = {
    "docx": frozenset({"[Content_Types].xml", "word/document.xml"}),
    "xlsx": frozenset({"[Content_Types].xml", "xl/workbook.xml"}),
    "odt": frozenset({"mimetype", "content.xml"}),
    "ods": frozenset({"mimetype", "content.xml"}),
    "zip": frozenset(),
}
ODF_MIMETYPES: Mapping[str, bytes] = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
}
# Kinds told by their first bytes, and the extensions a detection library reports for them.
# OLE compound files (old Word and Excel) look alike: either name is taken for either.
_OLE = frozenset({".doc", ".dot", ".xls", ".xla", ".xlr"})
SIGNED_KINDS: Mapping[str, frozenset[str]] = {
    "pdf": frozenset({".pdf"}),
    # Many tools export "Word" files as RTF named .doc, and Word opens them as such.
    "doc": _OLE | {".rtf"},
    "xls": _OLE,
    "rar": frozenset({".rar"}),
    "jpg": frozenset({".jpg", ".jpeg", ".jfif", ".jpe"}),
    "png": frozenset({".png"}),
}
TEXT_KINDS = frozenset({"csv", "txt", "yaml", "yml"})
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"
PDF_WINDOW = 1024  # PDF readers look for "%PDF-" this far into a file
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_EOCD_REACH = _EOCD_SIZE + 0xFFFF  # the record ends the file, after at most a 64 KB comment


def zip_entry_count(data: bytes) -> int | None:
    """The number of entries an archive's end record declares (None: no end record).

    Read before the central directory is, so a directory of a million entries is refused
    without being walked. Found as zipfile finds it: the last record in the last 64 KB."""
    at = data.rfind(_EOCD, max(0, len(data) - _EOCD_REACH))
    if at < 0 or len(data) - at < _EOCD_SIZE:
        return None
    (entries,) = struct.unpack_from("<H", data, at + 10)
    return int(entries)


def is_text(data: bytes) -> bool:
    """Text has no NUL byte, unless it is UTF-16 and says so with a byte-order mark."""
    return data.startswith(_UTF16_BOMS) or b"\x00" not in data


def check_archive(
    kind: str, file_size: int, members: Iterable[Member], limits: ArchiveLimits
) -> ContentProblem | None:
    """An archive of `kind` declares few enough members, small enough sizes, a sane ratio of
    its declared total to the file's size, and the parts its kind always has."""
    listed = list(members)
    if len(listed) > limits.members:
        return ContentProblem.BOMB
    total = sum(m.size for m in listed)
    if total > limits.total_bytes or total > max(file_size, 1) * limits.ratio:
        return ContentProblem.BOMB
    names = {m.name for m in listed}
    if not ZIP_PARTS.get(kind, frozenset()) <= names:
        return ContentProblem.BROKEN
    return None


def check_signature(kind: str, head: bytes, detected: Iterable[str]) -> ContentProblem | None:
    """The first bytes (`head`) and what a detection library recognised in them
    (`detected`: extensions such as ".pdf") agree with the declared `kind`."""
    found = frozenset(detected)
    if kind in TEXT_KINDS:
        return None if is_text(head) else ContentProblem.MISMATCH
    if kind in ZIP_PARTS:
        if not head.startswith(ZIP_MAGIC):
            return ContentProblem.MISMATCH
        # A ZIP that a PDF reader also opens (%PDF- in its first kilobyte).
        return ContentProblem.POLYGLOT if PDF_MAGIC in head[:PDF_WINDOW] else None
    expected = SIGNED_KINDS.get(kind)
    if expected is None or not expected & found:
        return ContentProblem.MISMATCH
    return None
