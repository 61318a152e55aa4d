"""Reading a scoring table from YAML, CSV and XLSX: good files, and every bad row named."""

from __future__ import annotations

import time
import unicodedata
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.core.scoring import ItemKind, ScoringTable, TableProblem, totals
from bot.services.scoring_files import MAX_NODES, TableRefused, read_scoring_table
from bot.services.tabular import MAX_FILE_BYTES, MAX_ROWS

EXAMPLE = Path(__file__).resolve().parents[2] / "templates" / "scoring-table-example.yaml"


def problems(result: ScoringTable | TableRefused) -> list[tuple[int, TableProblem]]:
    assert isinstance(result, TableRefused), result
    assert result.unreadable is None
    return [(p.line, p.problem) for p in result.problems]


def unreadable(result: ScoringTable | TableRefused) -> str | None:
    assert isinstance(result, TableRefused), result
    assert result.problems == ()
    return result.unreadable


def yaml_table(text: str) -> ScoringTable | TableRefused:
    return read_scoring_table("bang.yaml", text.encode())


# --- the example -----------------------------------------------------------------------------


def test_example_table_is_a_100_point_scale() -> None:
    table = read_scoring_table(EXAMPLE.name, EXAMPLE.read_bytes())
    assert isinstance(table, ScoringTable)
    assert table.title.startswith("Bảng chấm điểm thi đua năm")
    assert len(table.items) == 14
    assert len(table.criteria) == 10
    assert len(table.groups) == 4
    assert [i.code for i in table.items if i.kind is ItemKind.BONUS] == ["T1", "T2"]
    assert [i.code for i in table.items if i.kind is ItemKind.PENALTY] == ["P1", "P2"]
    assert sum(i.max_cp for i in table.criteria) == 10000  # the criteria make 100 points
    assert (table.bonus_cap_cp, table.penalty_cap_cp) == (500, 1000)
    assert table.max_total_cp == 10500  # 100 plus a bonus capped at 5
    assert table.item("T2") is not None
    assert table.item("T2").max_cp == 250  # type: ignore[union-attr]  # written "2,5"
    full = {i.code: i.max_cp for i in table.items}
    assert totals(table, full).total_cp == 10000 + 500 - 1000


def test_example_text_is_composed_vietnamese() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert unicodedata.normalize("NFC", text) == text
    table = read_scoring_table(EXAMPLE.name, EXAMPLE.read_bytes())
    assert isinstance(table, ScoringTable)
    assert "Cải cách hành chính" in " ".join(table.groups)


# --- YAML ------------------------------------------------------------------------------------

GOOD_YAML = """\
title: Bảng chấm điểm thi đua năm 2022
groups:
  - title: "I. Thực hiện nhiệm vụ chính trị"
    criteria:
      - {code: "1.1", title: "Công tác chỉ đạo", max: 20}
      - code: "1.10"
        title: Nhiệm vụ chuyên môn
        max: "9,5"
  - title: "II. Cải cách hành chính"
    criteria:
      - {code: "2.1", title: "Thủ tục hành chính", max: 10.25}
bonus: {cap: 5, items: [{code: "T1", title: "Sáng kiến", max: 3}, {code: T2, title: K, max: 3}]}
penalty: {cap: "7,5", items: [{code: "P1", title: "Kỷ luật", max: 5}]}
"""


def test_yaml_table() -> None:
    table = yaml_table(GOOD_YAML)
    assert isinstance(table, ScoringTable)
    assert table.title == "Bảng chấm điểm thi đua năm 2022"
    assert [(i.code, i.max_cp, i.kind, i.group) for i in table.items] == [
        ("1.1", 2000, ItemKind.CRITERION, "I. Thực hiện nhiệm vụ chính trị"),
        ("1.10", 950, ItemKind.CRITERION, "I. Thực hiện nhiệm vụ chính trị"),
        ("2.1", 1025, ItemKind.CRITERION, "II. Cải cách hành chính"),
        ("T1", 300, ItemKind.BONUS, ""),
        ("T2", 300, ItemKind.BONUS, ""),
        ("P1", 500, ItemKind.PENALTY, ""),
    ]
    assert (table.bonus_cap_cp, table.penalty_cap_cp) == (500, 750)


def test_yaml_without_title_or_caps() -> None:
    text = """\
groups:
  - criteria:
      - {code: A, title: Một, max: 60}
      - {code: B, title: Hai, max: 40}
bonus:
  - {code: T, title: Thưởng, max: 2}
"""
    table = read_scoring_table("Bảng 2025.yml", text.encode())
    assert isinstance(table, ScoringTable)
    assert table.title == "Bảng 2025"
    assert table.groups == ("",)
    assert (table.bonus_cap_cp, table.penalty_cap_cp, table.max_total_cp) == (200, 0, 10200)


def test_yaml_with_bom_and_decomposed_text_is_normalised() -> None:
    decomposed = unicodedata.normalize("NFD", "Xây dựng Đảng")
    text = f"title: {decomposed}\ngroups:\n  - title: {decomposed}\n    criteria:\n"
    text += f"      - {{code: '4.1', title: '  {decomposed}  ', max: 10}}\n"
    table = read_scoring_table("x.YAML", b"\xef\xbb\xbf" + text.encode())
    assert isinstance(table, ScoringTable)
    composed = "Xây dựng Đảng"
    assert (table.title, table.groups[0], table.items[0].title) == (composed,) * 3


def test_yaml_bad_rows_are_named_with_their_lines() -> None:
    text = """\
title: Bảng lỗi
groups:
  - title: I
    criteria:
      - {code: "1.1", title: "Một", max: abc}
      - code: "1.2"
        title: "Hai"
        max: 0
      - {code: "", title: "Ba", max: 5}
      - {code: "1.4", max: 5}
      - {code: "1.1", title: "Trùng", max: 5}
      - {code: "1.6", title: [not, text], max: 5}
      - {code: "1.7", title: "Bảy", max: 1.234}
bonus:
  cap: năm
  items:
    - {code: T1, title: Thưởng, max: -2}
"""
    assert problems(yaml_table(text)) == [
        (5, TableProblem.MAX_INVALID),
        (6, TableProblem.MAX_INVALID),
        (9, TableProblem.CODE_MISSING),
        (10, TableProblem.TITLE_MISSING),
        (11, TableProblem.DUPLICATE_CODE),
        (12, TableProblem.TITLE_MISSING),
        (13, TableProblem.MAX_INVALID),
        (15, TableProblem.CAP_INVALID),
        (17, TableProblem.MAX_INVALID),
    ]


def test_yaml_row_problem_keeps_the_row_text() -> None:
    text = "groups:\n  - title: I\n    criteria:\n      - {code: '1.1', title: Một, max: abc}\n"
    result = yaml_table(text)
    assert isinstance(result, TableRefused)
    assert [(p.line, p.problem, p.text) for p in result.problems] == [
        (4, TableProblem.MAX_INVALID, "criterion | I | 1.1 | Một | abc")
    ]


def test_yaml_without_criteria() -> None:
    text = "groups:\n  - title: I\n    criteria:\nbonus: {cap: 5}\n"
    assert problems(yaml_table(text)) == [(0, TableProblem.NO_CRITERIA)]
    assert problems(yaml_table("groups: []\n")) == [(0, TableProblem.NO_CRITERIA)]


@pytest.mark.parametrize(
    "text",
    [
        "title: [unclosed\n",
        "groups:\n  - {code: 1\n",
        "title: a\n title: b\n  - c\n",
        "a: 1\n---\nb: 2\n",  # two documents
        "title: !!python/object/apply:os.system ['true']\ngroups: []\n",
        "title: \x07\n",  # a control character
    ],
)
def test_yaml_syntax_errors(text: str) -> None:
    assert unreadable(yaml_table(text)) == "yaml"


@pytest.mark.parametrize(
    "text",
    [
        "just a string\n",
        "- a\n- b\n",
        "title: Bảng\n",  # no groups
        "groups: {title: I}\n",  # groups not a list
        "groups:\n  - just a title\n",  # a group not a mapping
        "groups:\n  - title: I\n",  # a group without criteria
        "groups:\n  - title: I\n    criteria: {code: A}\n",  # criteria not a list
        "groups:\n  - title: I\n    criteria:\n      - A, Một, 10\n",  # an item not a mapping
        "groups:\n  - title: [I, II]\n    criteria: []\n",  # a group title not text
        "groups: []\ntitle: {a: 1}\n",  # the table title not text
        "groups: []\npenalties: {cap: 5}\n",  # a misspelt section would drop data
        "groups:\n  - title: I\n    criterias: []\n",
        "groups: []\nbonus: {cap: 5, itmes: []}\n",
        "groups: []\nbonus: 5\n",
        "groups: []\ngroups: []\n",  # a repeated key
    ],
)
def test_yaml_of_the_wrong_shape(text: str) -> None:
    assert unreadable(yaml_table(text)) == "shape"


@pytest.mark.parametrize("text", ["", "   \n", "# chỉ có chú thích\n"])
def test_empty_yaml(text: str) -> None:
    assert unreadable(yaml_table(text)) == "empty"


def test_yaml_not_utf8() -> None:
    assert unreadable(read_scoring_table("a.yaml", "title: Bảng".encode("utf-16-le"))) == (
        "encoding"
    )


def test_yaml_too_big() -> None:
    data = b"# " + b"x" * MAX_FILE_BYTES
    assert unreadable(read_scoring_table("a.yaml", data)) == "size"


def test_yaml_aliases_are_refused() -> None:
    items = ", ".join(f"{{code: c{n}, title: t, max: 1}}" for n in range(40))
    groups = ", ".join(["{title: G, criteria: *items}"] * 40)
    text = f"groups: [{{title: G, criteria: &items [{items}]}}, {groups}]\n"
    assert unreadable(yaml_table(text)) == "alias"
    recursive = "groups: &g [{title: G, criteria: *g}]\n"
    assert unreadable(yaml_table(recursive)) == "alias"


def test_yaml_merge_key_bomb_is_refused_fast() -> None:
    """`<<: [*x, *x]` doubles a mapping at each level: 23 levels are 8 million keys when
    constructed. Only the composed nodes are read, and aliases and merge keys are refused."""
    lines = ["a0: &a0 {code: A, title: t, max: 1}"]
    lines += [f"a{n}: &a{n} {{<<: [*a{n - 1}, *a{n - 1}]}}" for n in range(1, 23)]
    text = "\n".join(lines) + "\n"
    assert len(text) < 1000
    started = time.perf_counter()
    assert unreadable(yaml_table(text)) == "alias"
    assert time.perf_counter() - started < 1
    # A merge key without any alias is refused too.
    merged = "groups: [{title: G, criteria: [{<<: {code: A, title: t}, max: 1}]}]\n"
    assert unreadable(yaml_table(merged)) == "alias"


def test_yaml_with_too_many_nodes_is_refused() -> None:
    many = ", ".join(["x"] * (MAX_NODES + 1))
    assert unreadable(yaml_table(f"groups: []\ntitle: [{many}]\n")) == "rows"


@pytest.mark.parametrize(
    "tagged",
    ["!!binary aGVsbG8=", "!custom x", "!!set {a}", "!!omap [a: 1]", "!!python/name:os.system"],
)
def test_yaml_tags_outside_the_plain_types_are_refused(tagged: str) -> None:
    text = (
        f"title: {tagged}\ngroups:\n  - title: I\n    criteria: [{{code: A, title: t, max: 1}}]\n"
    )
    assert unreadable(yaml_table(text)) == "yaml"


# --- CSV -------------------------------------------------------------------------------------

CSV_ROWS = [
    ["Tiêu đề", "Bảng chấm điểm 2024", "", "", ""],
    ["Loại", "Nhóm", "Mã", "Nội dung", "Điểm tối đa"],
    ["tiêu chí", "I. Chỉ đạo", "1.1", "Công tác chỉ đạo, điều hành", "20"],
    ["tiêu chí", "I. Chỉ đạo", "1.2", "Nhiệm vụ chuyên môn", "9,5"],
    ["", "", "", "", ""],
    ["Tiêu chí", "II. CCHC", "2.1", "Cải cách hành chính", "10.5"],
    ["điểm thưởng", "", "T1", "Sáng kiến", "3"],
    ["diem thuong", "", "T2", "Khen đột xuất", "3"],
    ["trần điểm thưởng", "", "", "", "5"],
    ["điểm trừ", "", "P1", "Kỷ luật", "5"],
    ["penalty cap", "", "", "", "4"],
]


def csv_bytes(rows: list[list[str]], sep: str = ",", bom: bool = False) -> bytes:
    def cell(value: str) -> str:
        return f'"{value}"' if sep in value or '"' in value else value

    text = "\r\n".join(sep.join(cell(v) for v in r) for r in rows) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def check_good(table: ScoringTable | TableRefused) -> None:
    assert isinstance(table, ScoringTable), table
    assert table.title == "Bảng chấm điểm 2024"
    assert [(i.code, i.max_cp, i.kind) for i in table.items] == [
        ("1.1", 2000, ItemKind.CRITERION),
        ("1.2", 950, ItemKind.CRITERION),
        ("2.1", 1050, ItemKind.CRITERION),
        ("T1", 300, ItemKind.BONUS),
        ("T2", 300, ItemKind.BONUS),
        ("P1", 500, ItemKind.PENALTY),
    ]
    assert table.groups == ("I. Chỉ đạo", "II. CCHC")
    assert table.item("1.1").title == "Công tác chỉ đạo, điều hành"  # type: ignore[union-attr]
    assert (table.bonus_cap_cp, table.penalty_cap_cp) == (500, 400)


@pytest.mark.parametrize(
    ("sep", "bom"), [(",", False), (";", False), (",", True), (";", True), ("\t", False)]
)
def test_csv_table(sep: str, bom: bool) -> None:
    check_good(read_scoring_table("bang.csv", csv_bytes(CSV_ROWS, sep, bom)))


def test_csv_in_the_windows_vietnamese_code_page() -> None:
    # cp1258 writes tone marks as combining characters after the letter: "Đa" + hook + "ng".
    data = "Loai;Nhom;Ma;Noi dung;Diem toi da\r\n;;A;Đa\u0309ng;10\r\n".encode("cp1258")
    assert "Đảng".encode() not in data
    table = read_scoring_table("bang.csv", data)
    assert isinstance(table, ScoringTable)
    assert table.items[0].title == "Đảng"


def test_csv_title_defaults_to_the_file_name() -> None:
    rows = [["kind", "group", "code", "title", "max"], ["criterion", "", "A", "One", "100"]]
    table = read_scoring_table("Bảng chấm 2024.v2.csv", csv_bytes(rows))
    assert isinstance(table, ScoringTable)
    assert table.title == "Bảng chấm 2024.v2"
    assert table.max_total_cp == 10000


def test_csv_english_title_row_and_no_header() -> None:
    rows = [["title", "Scores"], ["", "", "A", "One", "60"], ["", "", "B", "Two", "40"]]
    table = read_scoring_table("x.csv", csv_bytes(rows))
    assert isinstance(table, ScoringTable)
    assert (table.title, len(table.items)) == ("Scores", 2)


def test_csv_decomposed_text_is_normalised() -> None:
    rows = [["Tiêu đề", "Bảng"], ["tiêu chí", "Xây dựng Đảng", "4.1", "Đoàn thể", "10"]]
    data = unicodedata.normalize("NFD", "\n".join(",".join(r) for r in rows)).encode()
    table = read_scoring_table("x.csv", data)
    assert isinstance(table, ScoringTable)
    assert (table.title, table.groups, table.items[0].title) == (
        "Bảng",
        ("Xây dựng Đảng",),
        "Đoàn thể",
    )


def test_csv_bad_rows_are_named_with_their_lines() -> None:
    rows = [
        ["Loại", "Nhóm", "Mã", "Nội dung", "Điểm tối đa"],  # 1
        ["tiêu chí", "I", "1.1", "Một", "20"],  # 2
        ["tiêu chí", "I", "", "Hai", "10"],  # 3
        ["", "", "", "", ""],  # 4
        ["tiêu chí", "I", "1.3", "", "10"],  # 5
        ["hệ số", "I", "1.4", "Bốn", "10"],  # 6
        ["tiêu chí", "I", "1.5", "Năm", "abc"],  # 7
        ["tiêu chí", "I", "1.1", "Trùng", "5"],  # 8
        ["điểm thưởng", "", "T1", "Thưởng", "1,234"],  # 9
        ["trần điểm thưởng", "", "", "", "x"],  # 10
        ["trần điểm trừ", "", "", "", "5"],  # 11
        ["trần điểm trừ", "", "", "", "6"],  # 12
        ["Tiêu đề", "Quá muộn"],  # 13: a title row after the items is not a title
    ]
    for sep in (",", ";"):
        assert problems(read_scoring_table("x.csv", csv_bytes(rows, sep, bom=True))) == [
            (3, TableProblem.CODE_MISSING),
            (5, TableProblem.TITLE_MISSING),
            (6, TableProblem.KIND_UNKNOWN),
            (7, TableProblem.MAX_INVALID),
            (8, TableProblem.DUPLICATE_CODE),
            (9, TableProblem.MAX_INVALID),
            (10, TableProblem.CAP_INVALID),
            (12, TableProblem.DUPLICATE_CAP),
            (13, TableProblem.KIND_UNKNOWN),
        ]


def test_csv_line_numbers_count_quoted_line_breaks() -> None:
    data = (
        "Loại,Nhóm,Mã,Nội dung,Điểm tối đa\n"
        'tiêu chí,I,1.1,"Nội dung\ntrên hai dòng",10\n'
        "tiêu chí,I,1.2,Hai,mười\n"
    ).encode()
    assert problems(read_scoring_table("x.csv", data)) == [(4, TableProblem.MAX_INVALID)]


def test_csv_with_only_a_header_has_no_criteria() -> None:
    data = csv_bytes([["Loại", "Nhóm", "Mã", "Nội dung", "Điểm tối đa"]])
    assert problems(read_scoring_table("x.csv", data)) == [(0, TableProblem.NO_CRITERIA)]


@pytest.mark.parametrize(
    ("filename", "data", "why"),
    [
        ("x.csv", b"", "empty"),
        ("x.csv", b" , ,\n\n", "empty"),
        ("x.csv", b"a" * (MAX_FILE_BYTES + 1), "size"),
        ("x.csv", b"".join(b",,A%d,T,1\n" % n for n in range(MAX_ROWS + 1)), "rows"),
        ("x.xlsx", b"not a zip", "broken"),
        ("x.pdf", b"%PDF-1.4", "type"),
        ("x.json", b"{}", "type"),
        ("bang", b"Loai,Nhom\n", "type"),
    ],
)
def test_unreadable_files(filename: str, data: bytes, why: str) -> None:
    assert unreadable(read_scoring_table(filename, data)) == why


# --- XLSX ------------------------------------------------------------------------------------


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for r in rows:
        sheet.append(r)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_table() -> None:
    check_good(read_scoring_table("Bang.XLSX", xlsx_bytes([list(r) for r in CSV_ROWS])))


def test_xlsx_numbers_and_empty_cells() -> None:
    rows: list[list[object]] = [
        ["Loại", "Nhóm", "Mã", "Nội dung", "Điểm tối đa"],
        [None, "I", "1.1", "Một", 20],
        ["tiêu chí", "I", "1.2", "Hai", 9.5],
        [None, None, None, None, None],
        ["tiêu chí", "II", 3, "Ba", 20.0],
        ["trần điểm thưởng", None, None, None, 0],
    ]
    table = read_scoring_table("bang-cham-diem.xlsx", xlsx_bytes(rows))
    assert isinstance(table, ScoringTable)
    assert table.title == "bang-cham-diem"
    assert [(i.code, i.max_cp) for i in table.items] == [("1.1", 2000), ("1.2", 950), ("3", 2000)]
    assert table.bonus_cap_cp == 0


def test_xlsx_bad_rows_are_named_with_their_rows() -> None:
    rows: list[list[object]] = [
        ["Tiêu đề", "Bảng 2024"],  # 1
        ["Loại", "Nhóm", "Mã", "Nội dung", "Điểm tối đa"],  # 2
        ["tiêu chí", "I", "1.1", "Một", 20],  # 3
        [None, None, None, None, None],  # 4
        ["tiêu chí", "I", "1.2", "Hai", -1],  # 5
        ["tiêu chí", "I", "1.3", "Ba", 0.125],  # 6
        ["tiêu chí", "I", "1.1", "Trùng", 5],  # 7
        ["thưởng", None, "T1", None, 2],  # 8
        ["khác", None, "K", "Khác", 1],  # 9
    ]
    assert problems(read_scoring_table("x.xlsx", xlsx_bytes(rows))) == [
        (5, TableProblem.MAX_INVALID),
        (6, TableProblem.MAX_INVALID),
        (7, TableProblem.DUPLICATE_CODE),
        (8, TableProblem.TITLE_MISSING),
        (9, TableProblem.KIND_UNKNOWN),
    ]


def test_empty_xlsx() -> None:
    assert unreadable(read_scoring_table("x.xlsx", xlsx_bytes([]))) == "empty"


def test_refusal_defaults() -> None:
    assert TableRefused() == TableRefused(problems=(), unreadable=None)
    with pytest.raises(AttributeError):
        TableRefused().unreadable = "x"  # type: ignore[misc]
