"""Text normalisation for Vietnamese input."""

from __future__ import annotations

import unicodedata

import pytest

from bot.core.text import clean, fold_diacritics, name_key, nfc

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
