"""Scoring tables (bảng chấm điểm) and scores, in exact hundredths of a point.

A table is data: groups of criteria, each with a maximum, plus bonus (điểm thưởng) and
penalty (điểm trừ) items whose sums are capped. A total is the criteria's sum, plus the
bonus sum up to its cap, minus the penalty sum up to its cap. Points are kept as integer
hundredths ("centipoints") so totals never drift the way floats do.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.text import clean, fold_diacritics

MAX_DECIMALS = 2
# Lengths a table may use: a code is stored in VARCHAR(40), a table title in VARCHAR(300), and
# an item's title and group go into one chat message with the question.
MAX_CODE = 40
MAX_ITEM_TITLE = 500
MAX_GROUP_TITLE = 300
MAX_TABLE_TITLE = 300
_NUMBER = re.compile(r"^\s*(\d{1,6})(?:[.,](\d+))?\s*$")


class ItemKind(enum.StrEnum):
    CRITERION = "criterion"
    BONUS = "bonus"
    PENALTY = "penalty"


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the table: a criterion, a bonus item or a penalty item."""

    code: str
    title: str
    max_cp: int  # the maximum in hundredths of a point
    kind: ItemKind
    group: str = ""


@dataclass(frozen=True, slots=True)
class ScoringTable:
    title: str
    items: tuple[Item, ...]
    bonus_cap_cp: int = 0
    penalty_cap_cp: int = 0

    @property
    def criteria(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.kind is ItemKind.CRITERION)

    @property
    def criteria_max_cp(self) -> int:
        """The scale of the table: every criterion at its maximum (bonus not included)."""
        return sum(i.max_cp for i in self.criteria)

    @property
    def bonus_max_cp(self) -> int:
        """The most bonus a unit can earn: the bonus items' sum, up to the cap."""
        bonus = sum(i.max_cp for i in self.items if i.kind is ItemKind.BONUS)
        return min(bonus, self.bonus_cap_cp)

    @property
    def max_total_cp(self) -> int:
        """The best possible total: every criterion at its maximum plus the full bonus."""
        return self.criteria_max_cp + self.bonus_max_cp

    def item(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)

    @property
    def groups(self) -> tuple[str, ...]:
        seen: list[str] = []
        for item in self.criteria:
            if item.group not in seen:
                seen.append(item.group)
        return tuple(seen)


class ValueProblem(enum.StrEnum):
    NOT_A_NUMBER = "not_a_number"
    NEGATIVE = "negative"
    TOO_MANY_DECIMALS = "too_many_decimals"
    ABOVE_MAX = "above_max"


def parse_points(text: str) -> int | ValueProblem:
    """Points typed by a person ("18", "9,5", "9.75") as hundredths; a comma is a decimal mark."""
    stripped = text.strip()
    if stripped.startswith("-") and _NUMBER.match(stripped[1:]):
        return ValueProblem.NEGATIVE
    match = _NUMBER.match(stripped)
    if match is None:
        return ValueProblem.NOT_A_NUMBER
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction.rstrip("0")) > MAX_DECIMALS:
        return ValueProblem.TOO_MANY_DECIMALS
    fraction = (fraction + "00")[:MAX_DECIMALS]
    return int(whole) * 100 + int(fraction)


def check_value(item: Item, text: str) -> int | ValueProblem:
    """A self or reviewed score for one item: a number from 0 to the item's maximum."""
    value = parse_points(text)
    if isinstance(value, ValueProblem):
        return value
    if value > item.max_cp:
        return ValueProblem.ABOVE_MAX
    return value


def format_points(cp: int) -> str:
    """Hundredths as people write points: 18, 9,5, 9,75 (Vietnamese decimal comma)."""
    sign = "-" if cp < 0 else ""
    whole, frac = divmod(abs(cp), 100)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole},{frac:02d}".rstrip("0")


@dataclass(frozen=True, slots=True)
class Totals:
    criteria_cp: int
    bonus_cp: int  # after the cap
    penalty_cp: int  # after the cap, as a positive number deducted
    total_cp: int
    complete: bool  # every item has a value


def totals(table: ScoringTable, values: Mapping[str, int]) -> Totals:
    """Total = criteria + min(bonus, bonus cap) − min(penalty, penalty cap)."""
    criteria = sum(values.get(i.code, 0) for i in table.items if i.kind is ItemKind.CRITERION)
    bonus = sum(values.get(i.code, 0) for i in table.items if i.kind is ItemKind.BONUS)
    penalty = sum(values.get(i.code, 0) for i in table.items if i.kind is ItemKind.PENALTY)
    bonus = min(bonus, table.bonus_cap_cp)
    penalty = min(penalty, table.penalty_cap_cp)
    complete = all(i.code in values for i in table.items)
    return Totals(criteria, bonus, penalty, criteria + bonus - penalty, complete)


def effective(self_values: Mapping[str, int], reviewed: Mapping[str, int]) -> dict[str, int]:
    """The values that count: the secretariat's reviewed value where it gave one."""
    merged = dict(self_values)
    merged.update(reviewed)
    return merged


@dataclass(frozen=True, slots=True)
class GroupTotal:
    title: str  # "" for criteria outside any group
    value_cp: int
    max_cp: int


def group_totals(table: ScoringTable, values: Mapping[str, int]) -> tuple[GroupTotal, ...]:
    """Per group of criteria, in the table's order: the points given and the group's maximum."""
    return tuple(
        GroupTotal(
            group,
            sum(values.get(i.code, 0) for i in table.criteria if i.group == group),
            sum(i.max_cp for i in table.criteria if i.group == group),
        )
        for group in table.groups
    )


def first_unanswered(table: ScoringTable, values: Mapping[str, int]) -> int | None:
    """Where a paused walk resumes: the first item without a value."""
    for index, item in enumerate(table.items):
        if item.code not in values:
            return index
    return None


# --- validating a table read from a file ----------------------------------------------


class TableProblem(enum.StrEnum):
    CODE_MISSING = "code_missing"
    TITLE_MISSING = "title_missing"
    MAX_INVALID = "max_invalid"
    KIND_UNKNOWN = "kind_unknown"
    DUPLICATE_CODE = "duplicate_code"
    CAP_INVALID = "cap_invalid"
    NO_CRITERIA = "no_criteria"
    DUPLICATE_CAP = "duplicate_cap"
    CODE_TOO_LONG = "code_too_long"
    TITLE_TOO_LONG = "title_too_long"
    GROUP_TOO_LONG = "group_too_long"
    TABLE_TITLE_TOO_LONG = "table_title_too_long"


@dataclass(frozen=True, slots=True)
class TableRow:
    """One raw row of a table file (from YAML, CSV or XLSX), with where it came from."""

    line: int
    kind: str
    group: str
    code: str
    title: str
    max_text: str


@dataclass(frozen=True, slots=True)
class TableRowProblem:
    line: int
    problem: TableProblem
    text: str


_KIND_WORDS = {
    "": ItemKind.CRITERION,
    "criterion": ItemKind.CRITERION,
    "tieu chi": ItemKind.CRITERION,
    "bonus": ItemKind.BONUS,
    "thuong": ItemKind.BONUS,
    "diem thuong": ItemKind.BONUS,
    "penalty": ItemKind.PENALTY,
    "tru": ItemKind.PENALTY,
    "diem tru": ItemKind.PENALTY,
}
_CAP_WORDS = {
    "bonus cap": ItemKind.BONUS,
    "tran thuong": ItemKind.BONUS,
    "tran diem thuong": ItemKind.BONUS,
    "penalty cap": ItemKind.PENALTY,
    "tran tru": ItemKind.PENALTY,
    "tran diem tru": ItemKind.PENALTY,
}


def build_table(title: str, rows: list[TableRow]) -> ScoringTable | list[TableRowProblem]:
    """A table from raw rows; any bad row refuses the whole table, naming each one.

    ``kind`` is criterion / bonus / penalty (Vietnamese: tiêu chí / điểm thưởng / điểm trừ)
    or a cap row (bonus_cap / penalty_cap, trần điểm thưởng / trần điểm trừ) whose maximum
    caps that kind's sum. Without a cap row the cap is the sum of that kind's maxima.
    """
    items: list[Item] = []
    problems: list[TableRowProblem] = []
    caps: dict[ItemKind, int] = {}
    seen: set[str] = set()
    for row in rows:
        text = " | ".join(p for p in (row.kind, row.group, row.code, row.title, row.max_text) if p)
        kind_word = fold_diacritics(row.kind).replace("-", " ").replace("_", " ")
        value = parse_points(row.max_text)
        capped = _CAP_WORDS.get(kind_word)
        if capped is not None:
            if isinstance(value, ValueProblem):
                problems.append(TableRowProblem(row.line, TableProblem.CAP_INVALID, text))
            elif capped in caps:
                problems.append(TableRowProblem(row.line, TableProblem.DUPLICATE_CAP, text))
            else:
                caps[capped] = value
            continue
        kind = _KIND_WORDS.get(kind_word)
        code = clean(row.code)
        problem: TableProblem | None = None
        if kind is None:
            problem = TableProblem.KIND_UNKNOWN
        elif not code:
            problem = TableProblem.CODE_MISSING
        elif len(code) > MAX_CODE:
            problem = TableProblem.CODE_TOO_LONG
        elif not clean(row.title):
            problem = TableProblem.TITLE_MISSING
        elif len(clean(row.title)) > MAX_ITEM_TITLE:
            problem = TableProblem.TITLE_TOO_LONG
        elif len(clean(row.group)) > MAX_GROUP_TITLE:
            problem = TableProblem.GROUP_TOO_LONG
        elif isinstance(value, ValueProblem) or value == 0:
            problem = TableProblem.MAX_INVALID
        elif code.casefold() in seen:
            problem = TableProblem.DUPLICATE_CODE
        if problem is not None or kind is None or isinstance(value, ValueProblem):
            problems.append(TableRowProblem(row.line, problem or TableProblem.MAX_INVALID, text))
            if code:  # a bad row still claims its code, so a later duplicate is named too
                seen.add(code.casefold())
            continue
        seen.add(code.casefold())
        items.append(Item(code, clean(row.title), value, kind, clean(row.group)))
    if len(clean(title)) > MAX_TABLE_TITLE:
        problems.insert(0, TableRowProblem(0, TableProblem.TABLE_TITLE_TOO_LONG, clean(title)))
    if problems:
        return problems
    if not any(i.kind is ItemKind.CRITERION for i in items):
        return [TableRowProblem(0, TableProblem.NO_CRITERIA, "")]
    # Criteria first (in file order), then bonus, then penalty items: the order of the walk.
    order = {ItemKind.CRITERION: 0, ItemKind.BONUS: 1, ItemKind.PENALTY: 2}
    ordered = tuple(sorted(items, key=lambda i: order[i.kind]))
    bonus_sum = sum(i.max_cp for i in items if i.kind is ItemKind.BONUS)
    penalty_sum = sum(i.max_cp for i in items if i.kind is ItemKind.PENALTY)
    return ScoringTable(
        title=clean(title),
        items=ordered,
        bonus_cap_cp=caps.get(ItemKind.BONUS, bonus_sum),
        penalty_cap_cp=caps.get(ItemKind.PENALTY, penalty_sum),
    )


def competition_ranks(totals_by_key: Mapping[int, int]) -> dict[int, int]:
    """Rank by total, highest first; equal totals share a rank, the next is skipped (1, 1, 3)."""
    ordered = sorted(totals_by_key.values(), reverse=True)
    return {key: ordered.index(total) + 1 for key, total in totals_by_key.items()}
