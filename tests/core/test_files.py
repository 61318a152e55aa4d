"""What an uploaded file's content must be: signatures, polyglots, archive limits, parts."""

from __future__ import annotations

import struct

from bot.core.files import (
    PARSED_LIMITS,
    ArchiveLimits,
    ContentProblem,
    Member,
    check_archive,
    check_signature,
    is_text,
    zip_entry_count,
)

DOCX_PARTS = [Member("[Content_Types].xml", 300, 1_200), Member("word/document.xml", 900, 9_000)]
LIMITS = ArchiveLimits(members=3, total_bytes=100_000, ratio=10)


def end_record(entries: int, comment: bytes = b"") -> bytes:
    return struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, entries, entries, 0, 0, len(comment))


def test_the_entry_count_comes_from_the_last_end_record() -> None:
    assert zip_entry_count(b"PK\x03\x04" + b"x" * 50 + end_record(7)) == 7
    assert zip_entry_count(end_record(2) + b"junk" + end_record(65_535, b"note")) == 65_535
    assert zip_entry_count(b"%PDF-1.7 no archive here") is None
    assert zip_entry_count(b"PK\x05\x06short") is None


def test_text_has_no_nul_unless_it_is_utf16_with_a_mark() -> None:
    assert is_text("Tên đơn vị,Tên viết tắt\n".encode())
    assert not is_text(b"\x7fELF\x02\x01\x01\x00")
    assert is_text("Giao ước".encode("utf-16"))
    assert not is_text("Giao ước".encode("utf-16-le"))


def test_a_signature_must_match_the_declared_kind() -> None:
    zip_head = b"PK\x03\x04" + bytes(40)
    assert check_signature("docx", zip_head, [".docx", ".xlsx"]) is None
    assert check_signature("docx", b"\x7fELF", [""]) is ContentProblem.MISMATCH
    assert check_signature("pdf", b"%PDF-1.7", [".pdf"]) is None
    assert check_signature("pdf", b"MZ\x90", [".exe"]) is ContentProblem.MISMATCH
    assert check_signature("xls", b"\xd0\xcf\x11\xe0", [".doc", ".xls"]) is None
    # An RTF file named .doc (what many tools export as "Word") is what Word opens as such.
    assert check_signature("doc", b"{\\rtf1\\ansi", [".rtf"]) is None
    assert check_signature("xls", b"{\\rtf1\\ansi", [".rtf"]) is ContentProblem.MISMATCH
    assert check_signature("csv", b"a,b\n", []) is None
    assert check_signature("yaml", b"a: \x00", []) is ContentProblem.MISMATCH
    assert check_signature("exe", b"MZ", [".exe"]) is ContentProblem.MISMATCH  # never judged ok


def test_a_zip_that_a_pdf_reader_also_opens_is_a_polyglot() -> None:
    head = b"PK\x03\x04" + bytes(26) + b"a.pdf" + b"%PDF-1.7\n"
    assert check_signature("docx", head, [".docx"]) is ContentProblem.POLYGLOT
    late = b"PK\x03\x04" + bytes(2_000) + b"%PDF-1.7\n"  # past the first kilobyte
    assert check_signature("docx", late, [".docx"]) is None


def test_an_archive_within_its_limits_with_its_parts() -> None:
    assert check_archive("docx", 2_000, DOCX_PARTS, LIMITS) is None
    assert check_archive("zip", 2_000, DOCX_PARTS, LIMITS) is None


def test_too_many_members_too_large_or_too_compressed_is_a_bomb() -> None:
    many = [*DOCX_PARTS, Member("a", 1, 1), Member("b", 1, 1)]
    assert check_archive("docx", 2_000, many, LIMITS) is ContentProblem.BOMB
    huge = [*DOCX_PARTS, Member("xl/big.xml", 100, 100_000)]
    assert check_archive("docx", 20_000, huge, LIMITS) is ContentProblem.BOMB
    # 10,200 declared bytes from a 1,000-byte file: more than ten times its size.
    assert check_archive("docx", 1_000, DOCX_PARTS, LIMITS) is ContentProblem.BOMB
    lying = [Member("word/document.xml", 10, 2**32 - 1)]
    assert check_archive("docx", 1_000, lying, PARSED_LIMITS) is ContentProblem.BOMB


def test_a_missing_required_part_is_broken() -> None:
    sheet = [Member("[Content_Types].xml", 300, 1_200), Member("xl/workbook.xml", 400, 3_000)]
    assert check_archive("xlsx", 5_000, sheet, LIMITS) is None
    assert check_archive("xlsx", 5_000, DOCX_PARTS, LIMITS) is ContentProblem.BROKEN
    assert check_archive("odt", 5_000, DOCX_PARTS, LIMITS) is ContentProblem.BROKEN
