"""The scoring model: exact points, totals with caps, ranks and validating a table."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.scoring import (
    GroupTotal,
    Item,
    ItemKind,
    ScoringTable,
    TableProblem,
    TableRow,
    TableRowProblem,
    Totals,
    ValueProblem,
    build_table,
    check_value,
    competition_ranks,
    effective,
    first_unanswered,
    format_points,
    group_totals,
    parse_points,
    totals,
)

C1 = Item("1.1", "Công tác chỉ đạo, điều hành", 2000, ItemKind.CRITERION, "I")
C2 = Item("1.2", "Thực hiện nhiệm vụ chuyên môn", 1000, ItemKind.CRITERION, "I")
C3 = Item("2.1", "Cải cách hành chính", 950, ItemKind.CRITERION, "II")
B1 = Item("T1", "Sáng kiến được công nhận", 300, ItemKind.BONUS)
B2 = Item("T2", "Khen thưởng đột xuất", 300, ItemKind.BONUS)
P1 = Item("P1", "Vi phạm kỷ luật", 600, ItemKind.PENALTY)
P2 = Item("P2", "Chậm báo cáo", 600, ItemKind.PENALTY)
TABLE = ScoringTable(
    title="Bảng chấm điểm 2024",
    items=(C1, C2, C3, B1, B2, P1, P2),
    bonus_cap_cp=500,
    penalty_cap_cp=1000,
)
ALL_ZERO = {i.code: 0 for i in TABLE.items}


# --- parse_points / format_points / check_value ------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("18", 1800),
        ("100", 10000),
        ("9,5", 950),
        ("9.5", 950),
        ("9,75", 975),
        ("9.75", 975),
        ("9,50", 950),
        ("9,500", 950),  # trailing zeros are not extra precision
        ("0,05", 5),
        ("0.1", 10),
        ("  7 ", 700),
        ("\t12,5\n", 1250),
        ("999999", 99_999_900),
    ],
)
def test_parse_points_reads_typed_numbers(text: str, expected: int) -> None:
    assert parse_points(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("9,755", ValueProblem.TOO_MANY_DECIMALS),
        ("0.001", ValueProblem.TOO_MANY_DECIMALS),
        ("-1", ValueProblem.NEGATIVE),
        ("-9,5", ValueProblem.NEGATIVE),
        (" -0.5 ", ValueProblem.NEGATIVE),
        ("", ValueProblem.NOT_A_NUMBER),
        ("   ", ValueProblem.NOT_A_NUMBER),
        ("abc", ValueProblem.NOT_A_NUMBER),
        ("mười", ValueProblem.NOT_A_NUMBER),
        ("9,", ValueProblem.NOT_A_NUMBER),
        (",5", ValueProblem.NOT_A_NUMBER),
        ("9,5,1", ValueProblem.NOT_A_NUMBER),
        ("1 000", ValueProblem.NOT_A_NUMBER),
        ("+5", ValueProblem.NOT_A_NUMBER),
        ("1e3", ValueProblem.NOT_A_NUMBER),
        ("--1", ValueProblem.NOT_A_NUMBER),
        ("10 điểm", ValueProblem.NOT_A_NUMBER),
        ("1000000", ValueProblem.NOT_A_NUMBER),  # more than six whole digits
    ],
)
def test_parse_points_refuses(text: str, problem: ValueProblem) -> None:
    assert parse_points(text) is problem


@pytest.mark.parametrize(
    ("cp", "text"),
    [
        (0, "0"),
        (1800, "18"),
        (950, "9,5"),
        (975, "9,75"),
        (905, "9,05"),
        (5, "0,05"),
        (1010, "10,1"),
        (-950, "-9,5"),
        (-200, "-2"),
        (10500, "105"),
    ],
)
def test_format_points_uses_the_decimal_comma(cp: int, text: str) -> None:
    assert format_points(cp) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9,5", 950),
        ("9.50", 950),
        ("0", 0),
        ("9,51", ValueProblem.ABOVE_MAX),
        ("10", ValueProblem.ABOVE_MAX),
        ("-1", ValueProblem.NEGATIVE),
        ("x", ValueProblem.NOT_A_NUMBER),
        ("9,499", ValueProblem.TOO_MANY_DECIMALS),
    ],
)
def test_check_value_accepts_zero_to_the_maximum(text: str, expected: int | ValueProblem) -> None:
    assert check_value(C3, text) == expected


# --- the table and its totals ----------------------------------------------------------------


def test_table_properties() -> None:
    assert TABLE.criteria == (C1, C2, C3)
    assert TABLE.groups == ("I", "II")
    assert TABLE.max_total_cp == 2000 + 1000 + 950 + 500  # the bonus counts up to its cap
    assert (TABLE.criteria_max_cp, TABLE.bonus_max_cp) == (3950, 500)  # shown apart
    assert TABLE.item("T2") is B2
    assert TABLE.item("nope") is None


def test_totals_without_bonus_or_penalty() -> None:
    values = {**ALL_ZERO, "1.1": 1800, "1.2": 1000, "2.1": 950}
    assert totals(TABLE, values) == Totals(3750, 0, 0, 3750, True)


def test_bonus_over_its_cap_counts_only_the_cap() -> None:
    values = {**ALL_ZERO, "1.1": 1000, "T1": 300, "T2": 300}
    assert totals(TABLE, values) == Totals(1000, 500, 0, 1500, True)


def test_bonus_under_its_cap_counts_in_full() -> None:
    values = {**ALL_ZERO, "1.1": 1000, "T1": 300, "T2": 150}
    assert totals(TABLE, values).bonus_cp == 450


def test_penalty_over_its_cap_deducts_only_the_cap() -> None:
    values = {**ALL_ZERO, "1.1": 2000, "P1": 600, "P2": 600}
    assert totals(TABLE, values) == Totals(2000, 0, 1000, 1000, True)


def test_total_can_be_negative_down_to_the_penalty_cap() -> None:
    values = {**ALL_ZERO, "P1": 600, "P2": 600}
    assert totals(TABLE, values).total_cp == -1000


def test_incomplete_values_count_missing_as_zero() -> None:
    result = totals(TABLE, {"1.1": 1500, "T1": 100})
    assert result == Totals(1500, 100, 0, 1600, False)
    assert totals(TABLE, {}) == Totals(0, 0, 0, 0, False)


def test_values_for_unknown_codes_are_ignored() -> None:
    assert totals(TABLE, {**ALL_ZERO, "9.9": 5000}).total_cp == 0


def test_effective_prefers_the_reviewed_value_per_item() -> None:
    self_values = {"1.1": 2000, "1.2": 900, "T1": 300}
    reviewed = {"1.1": 1500, "P1": 200}
    merged = effective(self_values, reviewed)
    assert merged == {"1.1": 1500, "1.2": 900, "T1": 300, "P1": 200}
    assert self_values == {"1.1": 2000, "1.2": 900, "T1": 300}  # inputs untouched
    assert effective({}, {}) == {}


def test_group_totals_sum_each_group_of_criteria() -> None:
    values = {"1.1": 1500, "1.2": 1000, "2.1": 900, "T1": 300, "P1": 600}
    assert group_totals(TABLE, values) == (
        GroupTotal("I", 2500, 3000),
        GroupTotal("II", 900, 950),
    )
    assert group_totals(TABLE, {}) == (GroupTotal("I", 0, 3000), GroupTotal("II", 0, 950))


def test_first_unanswered() -> None:
    assert first_unanswered(TABLE, {}) == 0
    assert first_unanswered(TABLE, {"1.1": 0, "1.2": 0}) == 2
    assert first_unanswered(TABLE, {"1.1": 0, "2.1": 0}) == 1  # a gap, not the end
    assert first_unanswered(TABLE, ALL_ZERO) is None
    without_p2 = {k: v for k, v in ALL_ZERO.items() if k != "P2"}
    assert first_unanswered(TABLE, without_p2) == 6


@pytest.mark.parametrize(
    ("by_key", "ranks"),
    [
        ({}, {}),
        ({7: 9000}, {7: 1}),
        ({1: 9500, 2: 9500, 3: 9000}, {1: 1, 2: 1, 3: 3}),
        ({1: 8000, 2: 9000, 3: 9000, 4: 9500}, {1: 4, 2: 2, 3: 2, 4: 1}),
        ({1: 100, 2: 100, 3: 100}, {1: 1, 2: 1, 3: 1}),
        ({1: -100, 2: 0}, {1: 2, 2: 1}),
    ],
)
def test_competition_ranks(by_key: dict[int, int], ranks: dict[int, int]) -> None:
    assert competition_ranks(by_key) == ranks


# --- build_table -----------------------------------------------------------------------------


def row(line: int, kind: str, code: str, title: str, max_text: str, group: str = "") -> TableRow:
    return TableRow(line, kind, group, code, title, max_text)


GOOD_ROWS = [
    row(2, "tiêu chí", "1.1", "Công tác chỉ đạo", "20", "I. Chỉ đạo"),
    row(3, "điểm thưởng", "T1", "Sáng kiến", "3"),
    row(4, "tiêu chí", "1.2", "Nhiệm vụ chuyên môn", "9,5", "I. Chỉ đạo"),
    row(5, "điểm trừ", "P1", "Kỷ luật", "5"),
    row(6, "tiêu chí", "2.1", "Cải cách hành chính", "10.25", "II. CCHC"),
    row(7, "điểm thưởng", "T2", "Khen đột xuất", "2,5"),
    row(8, "trần điểm thưởng", "", "", "5"),
    row(9, "trần điểm trừ", "", "", "10"),
]


def test_build_table_orders_criteria_then_bonus_then_penalty() -> None:
    table = build_table("  Bảng   chấm điểm ", GOOD_ROWS)
    assert isinstance(table, ScoringTable)
    assert table.title == "Bảng chấm điểm"
    assert [i.code for i in table.items] == ["1.1", "1.2", "2.1", "T1", "T2", "P1"]
    assert [i.kind for i in table.items] == [ItemKind.CRITERION] * 3 + [ItemKind.BONUS] * 2 + [
        ItemKind.PENALTY
    ]
    assert [i.max_cp for i in table.items] == [2000, 950, 1025, 300, 250, 500]
    assert table.groups == ("I. Chỉ đạo", "II. CCHC")
    assert (table.bonus_cap_cp, table.penalty_cap_cp) == (500, 1000)
    assert table.max_total_cp == 2000 + 950 + 1025 + 500


def test_caps_default_to_the_sum_of_their_items() -> None:
    table = build_table("T", [r for r in GOOD_ROWS if "trần" not in r.kind])
    assert isinstance(table, ScoringTable)
    assert (table.bonus_cap_cp, table.penalty_cap_cp) == (550, 500)


def test_table_without_bonus_or_penalty_has_zero_caps() -> None:
    table = build_table("T", [row(1, "", "1", "Một", "100")])
    assert isinstance(table, ScoringTable)
    assert table.items == (Item("1", "Một", 10000, ItemKind.CRITERION),)
    assert (table.bonus_cap_cp, table.penalty_cap_cp, table.max_total_cp) == (0, 0, 10000)


def test_a_zero_cap_is_allowed() -> None:
    rows = [row(1, "", "1", "Một", "10"), row(2, "bonus", "T", "Thưởng", "2")]
    table = build_table("T", [*rows, row(3, "bonus cap", "", "", "0")])
    assert isinstance(table, ScoringTable)
    assert table.bonus_cap_cp == 0
    assert table.max_total_cp == 1000


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("", ItemKind.CRITERION),
        ("tiêu chí", ItemKind.CRITERION),
        ("Tiêu Chí", ItemKind.CRITERION),
        ("tieu chi", ItemKind.CRITERION),
        (unicodedata.normalize("NFD", "tiêu chí"), ItemKind.CRITERION),
        ("criterion", ItemKind.CRITERION),
        ("CRITERION", ItemKind.CRITERION),
        ("điểm thưởng", ItemKind.BONUS),
        ("diem thuong", ItemKind.BONUS),
        ("Thưởng", ItemKind.BONUS),
        ("bonus", ItemKind.BONUS),
        ("điểm trừ", ItemKind.PENALTY),
        ("DIEM TRU", ItemKind.PENALTY),
        ("trừ", ItemKind.PENALTY),
        ("penalty", ItemKind.PENALTY),
    ],
)
def test_kind_words(kind: str, expected: ItemKind) -> None:
    rows = [row(1, kind, "X", "Mục", "1")]
    if expected is not ItemKind.CRITERION:
        rows.append(row(2, "", "C", "Tiêu chí", "1"))
    table = build_table("T", rows)
    assert isinstance(table, ScoringTable)
    assert table.item("X") == Item("X", "Mục", 100, expected)


@pytest.mark.parametrize(
    ("kind", "bonus_cap", "penalty_cap"),
    [
        ("trần điểm thưởng", 700, 0),
        ("tran diem thuong", 700, 0),
        ("Trần thưởng", 700, 0),
        ("bonus cap", 700, 0),
        ("bonus_cap", 700, 0),
        ("bonus-cap", 700, 0),
        ("trần điểm trừ", 0, 700),
        ("TRAN DIEM TRU", 0, 700),
        ("trần trừ", 0, 700),
        ("penalty cap", 0, 700),
        ("penalty_cap", 0, 700),
    ],
)
def test_cap_words(kind: str, bonus_cap: int, penalty_cap: int) -> None:
    table = build_table("T", [row(1, "", "C", "Tiêu chí", "10"), row(2, kind, "", "", "7")])
    assert isinstance(table, ScoringTable)
    assert (table.bonus_cap_cp, table.penalty_cap_cp) == (bonus_cap, penalty_cap)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (row(9, "hệ số", "X", "Mục", "1"), TableProblem.KIND_UNKNOWN),
        (row(9, "tiêu chí", "", "Mục", "1"), TableProblem.CODE_MISSING),
        (row(9, "tiêu chí", "   ", "Mục", "1"), TableProblem.CODE_MISSING),
        (row(9, "tiêu chí", "X", "", "1"), TableProblem.TITLE_MISSING),
        (row(9, "tiêu chí", "X", "Mục", ""), TableProblem.MAX_INVALID),
        (row(9, "tiêu chí", "X", "Mục", "abc"), TableProblem.MAX_INVALID),
        (row(9, "tiêu chí", "X", "Mục", "0"), TableProblem.MAX_INVALID),
        (row(9, "tiêu chí", "X", "Mục", "-5"), TableProblem.MAX_INVALID),
        (row(9, "tiêu chí", "X", "Mục", "1,234"), TableProblem.MAX_INVALID),
        (row(9, "điểm thưởng", "1.1", "Trùng mã", "1"), TableProblem.DUPLICATE_CODE),
        (row(9, "tiêu chí", "t1", "Trùng mã khác hoa thường", "1"), TableProblem.DUPLICATE_CODE),
        (row(9, "trần điểm thưởng", "", "", "năm"), TableProblem.CAP_INVALID),
        (row(9, "trần điểm trừ", "", "", "-1"), TableProblem.CAP_INVALID),
        (row(9, "trần điểm trừ", "", "", "10"), TableProblem.DUPLICATE_CAP),
        # A code goes into a VARCHAR(40) column; a title and a group into one chat message.
        (row(9, "tiêu chí", "X" * 41, "Mục", "1"), TableProblem.CODE_TOO_LONG),
        (row(9, "tiêu chí", "X", "Mục " * 126, "1"), TableProblem.TITLE_TOO_LONG),
        (row(9, "tiêu chí", "X", "Mục", "1", "Nhóm " * 61), TableProblem.GROUP_TOO_LONG),
    ],
)
def test_each_bad_row_is_named(bad: TableRow, problem: TableProblem) -> None:
    result = build_table("T", [*GOOD_ROWS, bad])
    assert isinstance(result, list)
    assert [(p.line, p.problem) for p in result] == [(9, problem)]


def test_the_longest_code_title_and_group_are_taken() -> None:
    longest = row(9, "tiêu chí", "X" * 40, "M" * 500, "1", "N" * 300)
    result = build_table("T" * 300, [*GOOD_ROWS, longest])
    assert isinstance(result, ScoringTable)
    assert result.item("X" * 40) is not None


def test_a_table_title_over_300_characters_is_refused() -> None:
    result = build_table("Bảng " * 61, GOOD_ROWS)
    assert isinstance(result, list)
    assert [(p.line, p.problem) for p in result] == [(0, TableProblem.TABLE_TITLE_TOO_LONG)]


def test_every_bad_row_is_named_with_its_text() -> None:
    rows = [
        row(2, "tiêu chí", "1", "Một", "10", "I"),
        row(3, "tiêu chí", "", "Hai", "10", "I"),
        row(4, "xyz", "3", "Ba", "10"),
        row(5, "tiêu chí", "1", "Một lần nữa", "5"),
        row(6, "tiêu chí", "6", "Sáu", "mười"),
    ]
    assert build_table("T", rows) == [
        TableRowProblem(3, TableProblem.CODE_MISSING, "tiêu chí | I | Hai | 10"),
        TableRowProblem(4, TableProblem.KIND_UNKNOWN, "xyz | 3 | Ba | 10"),
        TableRowProblem(5, TableProblem.DUPLICATE_CODE, "tiêu chí | 1 | Một lần nữa | 5"),
        TableRowProblem(6, TableProblem.MAX_INVALID, "tiêu chí | 6 | Sáu | mười"),
    ]


def test_a_duplicate_of_a_bad_row_is_named_too() -> None:
    rows = [
        row(1, "tiêu chí", "1", "Một", "mười"),
        row(2, "tiêu chí", "1", "Một lần nữa", "5"),
        row(3, "hệ số", "K", "Khác", "5"),
        row(4, "tiêu chí", "k", "Khác nữa", "5"),
    ]
    result = build_table("T", rows)
    assert isinstance(result, list)
    assert [(p.line, p.problem) for p in result] == [
        (1, TableProblem.MAX_INVALID),
        (2, TableProblem.DUPLICATE_CODE),
        (3, TableProblem.KIND_UNKNOWN),
        (4, TableProblem.DUPLICATE_CODE),
    ]


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [row(1, "điểm thưởng", "T1", "Thưởng", "3")],
        [row(1, "điểm trừ", "P1", "Trừ", "3"), row(2, "trần điểm trừ", "", "", "3")],
    ],
)
def test_a_table_needs_a_criterion(rows: list[TableRow]) -> None:
    assert build_table("T", rows) == [TableRowProblem(0, TableProblem.NO_CRITERIA, "")]


def test_text_is_nfc_normalised() -> None:
    decomposed = unicodedata.normalize("NFD", "Xây dựng Đảng")
    table = build_table(decomposed, [row(1, "", "4.1", decomposed, "10", decomposed)])
    assert isinstance(table, ScoringTable)
    composed = "Xây dựng Đảng"
    assert (table.title, table.items[0].title, table.items[0].group) == (composed,) * 3


# --- properties ------------------------------------------------------------------------------

MAXIMA = st.integers(min_value=1, max_value=5000)


@st.composite
def tables_and_values(draw: st.DrawFn) -> tuple[ScoringTable, dict[str, int]]:
    """A random table and a value between 0 and its maximum for some of its items."""
    kinds = (
        [ItemKind.CRITERION] * draw(st.integers(1, 6))
        + [ItemKind.BONUS] * draw(st.integers(0, 3))
        + [ItemKind.PENALTY] * draw(st.integers(0, 3))
    )
    items = tuple(Item(f"c{n}", f"Mục {n}", draw(MAXIMA), k) for n, k in enumerate(kinds))
    table = ScoringTable("T", items, draw(st.integers(0, 10_000)), draw(st.integers(0, 10_000)))
    values: dict[str, int] = {}
    for item in items:
        if draw(st.booleans()):
            values[item.code] = draw(st.integers(0, item.max_cp))
    return table, values


@given(tables_and_values())
def test_total_stays_between_minus_penalty_cap_and_max_total(
    case: tuple[ScoringTable, dict[str, int]],
) -> None:
    table, values = case
    result = totals(table, values)
    assert -table.penalty_cap_cp <= result.total_cp <= table.max_total_cp
    assert 0 <= result.bonus_cp <= table.bonus_cap_cp
    assert 0 <= result.penalty_cp <= table.penalty_cap_cp
    assert result.total_cp == result.criteria_cp + result.bonus_cp - result.penalty_cp


@given(tables_and_values(), st.data())
def test_totals_is_monotone_in_each_criterion(
    case: tuple[ScoringTable, dict[str, int]], data: st.DataObject
) -> None:
    table, values = case
    item = data.draw(st.sampled_from(table.criteria))
    lower = data.draw(st.integers(0, item.max_cp))
    higher = data.draw(st.integers(lower, item.max_cp))
    low = totals(table, {**values, item.code: lower}).total_cp
    high = totals(table, {**values, item.code: higher}).total_cp
    assert high - low == higher - lower  # criteria are never capped


@given(tables_and_values(), st.data())
def test_totals_is_monotone_in_each_item(
    case: tuple[ScoringTable, dict[str, int]], data: st.DataObject
) -> None:
    table, values = case
    item = data.draw(st.sampled_from(table.items))
    lower = data.draw(st.integers(0, item.max_cp))
    higher = data.draw(st.integers(lower, item.max_cp))
    low = totals(table, {**values, item.code: lower}).total_cp
    high = totals(table, {**values, item.code: higher}).total_cp
    if item.kind is ItemKind.PENALTY:
        assert high <= low
    else:
        assert high >= low


# parse_points takes at most six whole digits, so 999 999,99 points is the largest value.
@given(st.integers(min_value=0, max_value=10**8 - 1))
def test_format_then_parse_round_trips(cp: int) -> None:
    assert parse_points(format_points(cp)) == cp


@given(st.integers(min_value=0, max_value=10**8 - 1))
def test_parse_accepts_the_dot_form_too(cp: int) -> None:
    assert parse_points(format_points(cp).replace(",", ".")) == cp
