"""Unit rows from chat or a file, finding a unit by what someone typed, and rotation."""

from __future__ import annotations

import unicodedata

import pytest

from bot.core.models import Unit
from bot.core.text import name_key
from bot.core.units import (
    MAX_UNITS_PER_BLOC,
    BadRow,
    ImportCheck,
    RowProblem,
    UnitDraft,
    check_one,
    check_rows,
    find_unit,
    is_header,
    match_units,
    rotation_proposal,
)


def check(
    rows: list[tuple[int, list[str]]],
    existing_names: set[str] | None = None,
    existing_shorts: set[str] | None = None,
) -> ImportCheck:
    return check_rows(
        rows, existing_names=existing_names or set(), existing_shorts=existing_shorts or set()
    )


def test_header_skipped_blank_lines_ignored() -> None:
    result = check(
        [
            (1, ["Tên đơn vị", "Tên viết tắt", "Liên hệ"]),
            (2, ["Sở Y tế", "SYT", "0912 345 678"]),
            (3, ["", "", ""]),
            (4, []),
            (5, ["   ", " "]),
            (6, ["  Sở  Tài chính ", "STC", ""]),
        ]
    )
    assert result == ImportCheck(
        units=(UnitDraft("Sở Y tế", "SYT", "0912 345 678"), UnitDraft("Sở Tài chính", "STC")),
        bad_rows=(),
        too_many=False,
    )
    assert result.ok


@pytest.mark.parametrize(
    "cells",
    [
        ["Tên đơn vị", "Viết tắt"],
        ["TEN DON VI"],
        ["Đơn vị", "x"],
        ["name", "short"],
        ["Unit name"],
    ],
)
def test_is_header(cells: list[str]) -> None:
    assert is_header(cells)


def test_first_row_that_is_a_unit_is_kept() -> None:
    assert not is_header(["Sở Y tế", "SYT"])
    assert not is_header([])
    result = check([(1, ["Sở Y tế", "SYT"])])
    assert result.units == (UnitDraft("Sở Y tế", "SYT"),)


def test_only_a_header_is_not_ok() -> None:
    result = check([(1, ["Tên đơn vị", "Viết tắt"])])
    assert result.units == ()
    assert not result.ok
    assert not check([]).ok


@pytest.mark.parametrize(
    ("cells", "problem", "text"),
    [
        (
            ["Sở Y tế", "SYT", "0912", "extra"],
            RowProblem.TOO_MANY_COLUMNS,
            "Sở Y tế | SYT | 0912 | extra",
        ),
        (["", "SYT"], RowProblem.NAME_MISSING, " | SYT"),
        (["Sở Y tế"], RowProblem.SHORT_MISSING, "Sở Y tế"),
        (["Sở Y tế", "  ", "0912"], RowProblem.SHORT_MISSING, "Sở Y tế |  | 0912"),
        (["x" * 201, "SYT"], RowProblem.NAME_TOO_LONG, "x" * 201 + " | SYT"),
        (["Sở Y tế", "x" * 41], RowProblem.SHORT_TOO_LONG, "Sở Y tế | " + "x" * 41),
        (
            ["Sở Y tế", "SYT", "x" * 201],
            RowProblem.CONTACT_TOO_LONG,
            "Sở Y tế | SYT | " + "x" * 201,
        ),
        (["Sở Tư  pháp ", "STP"], RowProblem.ALREADY_IN_BLOC, "Sở Tư pháp | STP"),
        (["Sở Xây dựng", "sct"], RowProblem.SHORT_ALREADY_IN_BLOC, "Sở Xây dựng | sct"),
        # The earlier rows of the same file provide these two clashes.
        (["Sở Nội vụ", "SNV"], RowProblem.DUPLICATE_IN_FILE, "Sở Nội vụ | SNV"),
        (["Sở Ngoại vụ", "syt"], RowProblem.SHORT_DUPLICATE_IN_FILE, "Sở Ngoại vụ | syt"),
    ],
)
def test_each_row_problem(cells: list[str], problem: RowProblem, text: str) -> None:
    result = check(
        [(2, ["Sở Y tế", "SYT"]), (3, ["SỞ NỘI VỤ", "SNV2"]), (7, cells)],
        existing_names={name_key("Sở Tư pháp")},
        existing_shorts={name_key("SCT")},
    )
    assert result.bad_rows == (BadRow(7, problem, text),)
    assert [u.short_name for u in result.units] == ["SYT", "SNV2"]
    assert not result.ok


def test_longest_allowed_values_pass() -> None:
    result = check([(1, ["x" * 200, "y" * 40, "z" * 200])])
    assert result.ok


def test_duplicates_ignore_case_spacing_and_composition() -> None:
    nfc_name = "Sở Lao động - Thương binh và Xã hội"
    nfd_name = unicodedata.normalize("NFD", nfc_name)
    assert nfc_name != nfd_name
    result = check(
        [
            (1, [nfc_name, "SLĐTBXH"]),
            (2, [nfd_name, "X1"]),
            (3, ["  sở lao động -  thương binh và xã hội", "X2"]),
            (4, ["Sở Khác", unicodedata.normalize("NFD", "slđtbxh")]),
        ]
    )
    assert [(b.line, b.problem) for b in result.bad_rows] == [
        (2, RowProblem.DUPLICATE_IN_FILE),
        (3, RowProblem.DUPLICATE_IN_FILE),
        (4, RowProblem.SHORT_DUPLICATE_IN_FILE),
    ]
    # Stored names are composed (NFC), whatever the file held.
    nfd_only = check([(1, [nfd_name, "S"])])
    assert nfd_only.units == (UnitDraft(nfc_name, "S"),)


def test_names_differing_only_in_diacritics_are_not_duplicates() -> None:
    result = check([(1, ["Sở Y tế", "A"]), (2, ["Số Y tế", "B"])])
    assert result.ok
    assert len(result.units) == 2


def test_too_many_units_for_the_bloc() -> None:
    existing = {f"unit {i}" for i in range(MAX_UNITS_PER_BLOC - 1)}
    one_more = check([(1, ["Sở Y tế", "SYT"])], existing_names=existing)
    assert one_more.ok
    two_more = check([(1, ["Sở Y tế", "SYT"]), (2, ["Sở Tài chính", "STC"])], existing)
    assert two_more.too_many
    assert two_more.bad_rows == ()
    assert not two_more.ok


def test_check_one_follows_the_row_rules() -> None:
    assert check_one(
        " Sở  Y tế ", "SYT", "", existing_names=set(), existing_shorts=set()
    ) == UnitDraft("Sở Y tế", "SYT")
    assert (
        check_one("Sở Y tế", "SYT", "", existing_names={"sở y tế"}, existing_shorts=set())
        is RowProblem.ALREADY_IN_BLOC
    )
    assert (
        check_one("Sở Y tế", "", "0912", existing_names=set(), existing_shorts=set())
        is RowProblem.SHORT_MISSING
    )


UNITS = [
    Unit(11, 1, "Sở Y tế", "SYT", rotation_order=3),
    Unit(12, 1, "Sở Giáo dục và Đào tạo", "SGDĐT", rotation_order=1),
    Unit(13, 1, "Sở Tài chính", "STC"),
    Unit(14, 1, "Đoàn Thanh niên", "ĐTN", rotation_order=2),
]


@pytest.mark.parametrize(
    ("ref", "unit_id"),
    [
        ("1", 11),
        (" 2 ", 12),
        ("4", 14),
        ("0", None),
        ("5", None),
        ("syt", 11),
        ("SGDĐT", 12),
        ("sgddt", 12),
        ("Sở Tài chính", 13),
        ("SỞ  TÀI CHÍNH", 13),
        (unicodedata.normalize("NFD", "Sở Tài chính"), 13),
        ("so tai chinh", 13),
        ("doan thanh nien", 14),
        ("dtn", 14),
        ("Sở", None),
        ("", None),
        ("   ", None),
    ],
)
def test_find_unit(ref: str, unit_id: int | None) -> None:
    found = find_unit(UNITS, ref)
    assert (found.id if found else None) == unit_id


def test_find_unit_ambiguous_without_diacritics() -> None:
    # Both tone placements are in use ("hóa"/"hoá"); typed without marks it names either.
    units = [Unit(1, 1, "Phòng Văn hóa", "PVH1"), Unit(2, 1, "Phòng Văn hoá", "PVH2")]
    assert find_unit(units, "phong van hoa") is None
    assert find_unit(units, "Phòng Văn hoá") == units[1]  # an exact spelling still finds one


def test_find_unit_exact_match_wins_over_folded() -> None:
    units = [Unit(1, 1, "Đội A", "ĐA"), Unit(2, 1, "Doi A", "DA")]
    assert find_unit(units, "da") == units[1]
    assert find_unit(units, "đa") == units[0]


def test_rotation_proposal_follows_the_order_and_wraps() -> None:
    by_id = {u.id: u for u in UNITS}
    assert rotation_proposal(UNITS, 12) == by_id[14]  # order 1 -> 2
    assert rotation_proposal(UNITS, 14) == by_id[11]  # order 2 -> 3
    assert rotation_proposal(UNITS, 11) == by_id[12]  # order 3 wraps to 1


def test_rotation_proposal_without_a_leader_in_the_rotation() -> None:
    first = UNITS[1]
    assert rotation_proposal(UNITS, None) == first
    assert rotation_proposal(UNITS, 13) == first  # the leader has no rotation place
    assert rotation_proposal(UNITS, 999) == first


def test_rotation_proposal_with_no_rotation() -> None:
    assert rotation_proposal([], None) is None
    assert rotation_proposal([Unit(1, 1, "Sở Y tế", "SYT")], 1) is None
    single = Unit(1, 1, "Sở Y tế", "SYT", rotation_order=1)
    assert rotation_proposal([single], 1) == single


BORDER = [
    Unit(1, 1, "Huyện Mường Nhé", "MN"),
    Unit(2, 1, "Thành phố Điện Biên Phủ", "TPĐBP"),
    Unit(3, 1, "Huyện Mường Chà", "MC"),
    Unit(4, 1, "Thị xã Mường Lay", "ML"),
    Unit(5, 1, "Huyện Điện Biên Đông", "ĐBĐ"),
]


@pytest.mark.parametrize(
    ("ref", "unit_ids"),
    [
        ("Mường", [1, 3, 4]),  # a word shared by several names: the candidates
        ("muong", [1, 3, 4]),
        ("dien bien phu", [2]),  # a run of words of one name, diacritics optional
        ("Điện Biên Phủ", [2]),
        ("Điện Biên", [2, 5]),
        ("muong cha", [3]),
        ("Mường Nhé", [1]),
        ("bien phu", [2]),
        ("Phủ Điện", []),  # words out of order name nothing
        ("Mườn", []),  # part of a word is not a word
        ("Hà Giang", []),
        ("3", [3]),
        ("MC", [3]),
    ],
)
def test_match_units_by_a_run_of_words(ref: str, unit_ids: list[int]) -> None:
    assert [u.id for u in match_units(BORDER, ref)] == unit_ids
    found = find_unit(BORDER, ref)
    assert (found.id if found else None) == (unit_ids[0] if len(unit_ids) == 1 else None)
