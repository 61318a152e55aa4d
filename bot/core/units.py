"""Validation of member units entered in chat or imported from a CSV/XLSX file."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.models import Unit
from bot.core.text import clean, fold_diacritics, name_key

MAX_NAME = 200
MAX_SHORT = 40
MAX_CONTACT = 200
MAX_UNITS_PER_BLOC = 200
_HEADER_WORDS = {"name", "ten", "ten don vi", "don vi", "unit", "unit name"}


class RowProblem(enum.StrEnum):
    NAME_MISSING = "name_missing"
    SHORT_MISSING = "short_missing"
    NAME_TOO_LONG = "name_too_long"
    SHORT_TOO_LONG = "short_too_long"
    CONTACT_TOO_LONG = "contact_too_long"
    TOO_MANY_COLUMNS = "too_many_columns"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    SHORT_DUPLICATE_IN_FILE = "short_duplicate_in_file"
    ALREADY_IN_BLOC = "already_in_bloc"
    SHORT_ALREADY_IN_BLOC = "short_already_in_bloc"
    BLOC_FULL = "bloc_full"


@dataclass(frozen=True, slots=True)
class UnitDraft:
    name: str
    short_name: str
    contact: str = ""


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    problem: RowProblem
    text: str


@dataclass(frozen=True, slots=True)
class ImportCheck:
    units: tuple[UnitDraft, ...]
    bad_rows: tuple[BadRow, ...]
    too_many: bool = False

    @property
    def ok(self) -> bool:
        """A file is taken only when every row is good."""
        return not self.bad_rows and not self.too_many and bool(self.units)


def is_header(cells: list[str]) -> bool:
    """A first row naming its columns ("Tên đơn vị", "name") is not a unit."""
    return bool(cells) and fold_diacritics(cells[0]) in _HEADER_WORDS


def check_rows(
    rows: list[tuple[int, list[str]]],
    *,
    existing_names: set[str],
    existing_shorts: set[str],
) -> ImportCheck:
    """Check every row (line number, cells); a file with one bad row is refused whole."""
    units: list[UnitDraft] = []
    bad: list[BadRow] = []
    seen_names: set[str] = set()
    seen_shorts: set[str] = set()
    body = rows[1:] if rows and is_header(rows[0][1]) else rows
    for line, raw in body:
        cells = [clean(c) for c in raw]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue  # blank lines are not rows
        text = " | ".join(cells)
        problem = _row_problem(cells, seen_names, seen_shorts, existing_names, existing_shorts)
        if problem is not None:
            bad.append(BadRow(line, problem, text))
            continue
        name, short = cells[0], cells[1]
        seen_names.add(name_key(name))
        seen_shorts.add(name_key(short))
        units.append(UnitDraft(name, short, cells[2] if len(cells) > 2 else ""))
    too_many = len(units) + len(existing_names) > MAX_UNITS_PER_BLOC
    return ImportCheck(tuple(units), tuple(bad), too_many)


def check_one(
    name: str,
    short_name: str,
    contact: str,
    *,
    existing_names: set[str],
    existing_shorts: set[str],
) -> UnitDraft | RowProblem:
    """One unit added in chat: the same rules as a file row."""
    cells = [clean(name), clean(short_name), clean(contact)]
    while cells and not cells[-1]:
        cells.pop()
    if len(existing_names) >= MAX_UNITS_PER_BLOC:
        return RowProblem.BLOC_FULL
    problem = _row_problem(cells, set(), set(), existing_names, existing_shorts)
    if problem is not None:
        return problem
    return UnitDraft(cells[0], cells[1], cells[2] if len(cells) > 2 else "")


def _row_problem(
    cells: list[str],
    seen_names: set[str],
    seen_shorts: set[str],
    existing_names: set[str],
    existing_shorts: set[str],
) -> RowProblem | None:
    checks: list[tuple[bool, RowProblem]] = [
        (len(cells) > 3, RowProblem.TOO_MANY_COLUMNS),
        (not cells or not cells[0], RowProblem.NAME_MISSING),
        (len(cells) < 2 or not cells[1], RowProblem.SHORT_MISSING),
    ]
    for failed, problem in checks:
        if failed:
            return problem
    name, short = cells[0], cells[1]
    contact = cells[2] if len(cells) > 2 else ""
    later: list[tuple[bool, RowProblem]] = [
        (len(name) > MAX_NAME, RowProblem.NAME_TOO_LONG),
        (len(short) > MAX_SHORT, RowProblem.SHORT_TOO_LONG),
        (len(contact) > MAX_CONTACT, RowProblem.CONTACT_TOO_LONG),
        (name_key(name) in existing_names, RowProblem.ALREADY_IN_BLOC),
        (name_key(short) in existing_shorts, RowProblem.SHORT_ALREADY_IN_BLOC),
        (name_key(name) in seen_names, RowProblem.DUPLICATE_IN_FILE),
        (name_key(short) in seen_shorts, RowProblem.SHORT_DUPLICATE_IN_FILE),
    ]
    for failed, problem in later:
        if failed:
            return problem
    return None


def find_unit(units: list[Unit], ref: str) -> Unit | None:
    """The one unit a typed reference names (see `match_units`), or None."""
    matches = match_units(units, ref)
    return matches[0] if len(matches) == 1 else None


def match_units(units: list[Unit], ref: str) -> list[Unit]:
    """The units a typed reference can mean, in list order: one (found), several (ambiguous:
    the candidates) or none. Tried in turn, the first that matches anything decides: the
    number in the list; the short or full name as spelled; the same without diacritics; a
    run of whole words of the name as spelled ("Mường" names every "Mường …"); the same
    without diacritics ("dien bien phu" names "Thành phố Điện Biên Phủ")."""
    ref = clean(ref)
    if not ref:
        return []
    if ref.isdecimal():
        index = int(ref) - 1
        return [units[index]] if 0 <= index < len(units) else []
    key, folded = name_key(ref), fold_diacritics(ref)
    tiers: list[Callable[[Unit], bool]] = [
        lambda u: key in (name_key(u.short_name), name_key(u.name)),
        lambda u: folded in (fold_diacritics(u.short_name), fold_diacritics(u.name)),
        lambda u: _has_run(_words(key), _words(name_key(u.name))),
        lambda u: _has_run(_words(folded), _words(fold_diacritics(u.name))),
    ]
    for matches in ([u for u in units if tier(u)] for tier in tiers):
        if matches:
            return matches
    return []


_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _has_run(run: list[str], words: list[str]) -> bool:
    """Whether `run` occurs in `words` as consecutive whole words."""
    n = len(run)
    return n > 0 and any(words[i : i + n] == run for i in range(len(words) - n + 1))


def rotation_proposal(units: list[Unit], leader_id: int | None) -> Unit | None:
    """The unit after this year's leader in the rotation order (luân phiên), wrapping round."""
    ordered = sorted((u for u in units if u.rotation_order is not None), key=_rotation_key)
    if not ordered:
        return None
    ids = [u.id for u in ordered]
    if leader_id not in ids:
        return ordered[0]
    return ordered[(ids.index(leader_id) + 1) % len(ordered)]


def _rotation_key(unit: Unit) -> int:
    return unit.rotation_order if unit.rotation_order is not None else 0


class UnitTie(enum.StrEnum):
    """A record that names a unit and must outlive any change to the bloc's list, so the
    unit cannot be removed (its name can still be corrected). In the order a refusal says
    them."""

    REPORTED = "reported"  # a report submitted
    VOTED = "voted"  # an open vote cast, or its name in a secret ballot's register
    CHECKED_IN = "checked_in"  # present at a conference
    SIGNED = "signed"  # the covenant signed
    ACKNOWLEDGED = "acknowledged"  # a deadline acknowledged
    CANDIDATE = "candidate"  # a choice on a ballot
    LEADER = "leader"  # the bloc's leader (trưởng khối)
    DEPUTY = "deputy"  # the bloc's deputy (phó khối)
    CHAIR = "chair"  # a conference's chairing unit
    ACHIEVEMENT = "achievement"  # owes an achievement report (proposed for an award)
    BALLOT_OPEN = "ballot_open"  # counted in the base of a ballot open now (not a record)


@dataclass(frozen=True, slots=True)
class UnitTies:
    """What keeps a unit in its bloc: records naming it, and its members (who must be taken
    off first; they are people, told when they are)."""

    records: tuple[UnitTie, ...]
    members: int
