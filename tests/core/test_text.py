"""Text normalisation for Vietnamese input."""

from __future__ import annotations

import unicodedata

import pytest

from bot.core.text import (
    addressed,
    bare_name,
    capitalize_first,
    clean,
    fold_diacritics,
    name_key,
    nfc,
    split_honorific,
    split_message,
    utf16_len,
)

COMPOSED = "Sở Giáo dục và Đào tạo"
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


def test_inputs_really_differ_in_composition() -> None:
    assert COMPOSED != DECOMPOSED
    assert len(DECOMPOSED) > len(COMPOSED)


def test_nfc_composes() -> None:
    assert nfc(DECOMPOSED) == COMPOSED
    assert nfc(COMPOSED) == COMPOSED


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Sở   Y\ttế \n", "Sở Y tế"),
        ("\u00a0Hội\u00a0Nông dân  ", "Hội Nông dân"),
        ("", ""),
        ("   ", ""),
        (DECOMPOSED, COMPOSED),
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_name_key_ignores_case_spacing_and_composition() -> None:
    key = name_key(COMPOSED)
    assert key == "sở giáo dục và đào tạo"
    assert name_key("SỞ  GIÁO DỤC VÀ ĐÀO TẠO ") == key
    assert name_key(DECOMPOSED.upper()) == key


def test_name_key_keeps_diacritics() -> None:
    # "Sở" (department) and "Số" (number) are different words.
    assert name_key("Sở Y tế") != name_key("Số Y tế")
    assert name_key("Sở Y tế") != name_key("So Y te")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (COMPOSED, "so giao duc va dao tao"),
        (DECOMPOSED, "so giao duc va dao tao"),
        ("ĐẮK LẮK", "dak lak"),
        ("Đoàn Thanh niên", "doan thanh nien"),
        ("Phòng Văn hóa", "phong van hoa"),
        ("Phòng Văn hoá", "phong van hoa"),
        ("  Hà   Nội ", "ha noi"),
        ("UBND", "ubnd"),
    ],
)
def test_fold_diacritics(raw: str, expected: str) -> None:
    assert fold_diacritics(raw) == expected


def test_a_message_is_cut_between_lines_and_a_too_long_line_between_words() -> None:
    names = ", ".join(
        f"Trường Trung học phổ thông số {n} huyện Điện Biên Đông" for n in range(200)
    )
    text = f"<b>Chưa nộp</b>\n{names}\nHết."
    parts = split_message(text, limit=1000)
    assert all(utf16_len(p) <= 1000 for p in parts)
    assert parts[0].startswith("<b>Chưa nộp</b>")
    assert len(parts) > 10
    assert parts[-1].endswith("\nHết.")
    # Nothing lost: the words come back in order.
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert split_message("ngắn\ngọn") == ["ngắn\ngọn"]


def test_a_sentence_starts_with_a_capital() -> None:
    assert capitalize_first("huyện Châu Thành") == "Huyện Châu Thành"
    assert capitalize_first("đơn vị") == "Đơn vị"
    assert capitalize_first("ủy ban") == "Ủy ban"
    assert capitalize_first("«xã Tân Phú»") == "«Xã Tân Phú»"
    assert capitalize_first("Sở Y tế") == "Sở Y tế"
    assert capitalize_first("01 đơn vị") == "01 đơn vị"
    assert capitalize_first("<b>sở & ban</b>") == "<b>sở & ban</b>"  # a name typed so
    assert capitalize_first("") == ""


def test_a_typed_honorific_is_recognised_once() -> None:
    assert split_honorific("Ông Trần Văn Bình") == ("ông", "Trần Văn Bình")
    assert split_honorific("bà  Hoàng Thị Lan") == ("bà", "Hoàng Thị Lan")
    assert split_honorific("ĐỒNG CHÍ Lò Thị Hương") == ("đồng chí", "Lò Thị Hương")
    assert split_honorific("dong chi Lò Thị Hương") == ("đồng chí", "Lò Thị Hương")
    assert split_honorific("Đ/c Lò Thị Hương") == ("đồng chí", "Lò Thị Hương")
    assert split_honorific("Nguyễn Văn Thành") == ("", "Nguyễn Văn Thành")
    assert split_honorific("Ông") == ("", "Ông")  # a lone word is a name
    assert addressed("Nguyễn Văn Thành") == "đồng chí Nguyễn Văn Thành"
    assert addressed("Bà Hoàng Thị Lan") == "bà Hoàng Thị Lan"
    assert addressed("") == ""
    assert bare_name("đ/c Lò Thị Hương") == "Lò Thị Hương"
