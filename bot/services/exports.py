"""What leaves the bot as files: the score table (XLSX) and the reports archive (ZIP parts).

Both are built from plain view values, never from ORM rows, so they are tested with literal
data. Text cells that a spreadsheet would read as a formula are escaped (design decision 12).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.core.scoring import ScoringTable

ZIP_PART_LIMIT = 45 * 1024 * 1024  # Telegram accepts uploads up to 50 MB; keep a margin


@dataclass(frozen=True, slots=True)
class UnitScoreRow:
    number: int  # the unit's number in the bloc's list
    name: str
    short_name: str
    status: str  # "submitted" | "late" | "missing" | "returned"
    version: int | None
    self_values: dict[str, int] = field(default_factory=dict)  # item code → centipoints
    reviewed_values: dict[str, int] = field(default_factory=dict)
    self_total_cp: int | None = None
    reviewed_total_cp: int | None = None
    total_cp: int | None = None  # reviewed where reviewed, otherwise self
    rank: int | None = None  # ties share a rank; missing units have none


@dataclass(frozen=True, slots=True)
class ScoreSheet:
    bloc_name: str
    period_title: str
    table: ScoringTable
    rows: tuple[UnitScoreRow, ...]


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    unit_number: int
    unit_short: str
    version: int
    original_name: str  # as the user sent it; sanitised before it is used in the archive
    path: Path  # the stored file (by content hash)
    size: int


def escape_cell(text: str) -> str:
    """A text cell starting with = + - @ would be a formula in Excel: make it plain text."""
    raise NotImplementedError


def score_xlsx(sheet: ScoreSheet, *, locale: str) -> bytes:
    """Units × items, self and reviewed values, totals and rank, as an XLSX workbook."""
    raise NotImplementedError


def archive_parts(
    entries: list[ArchiveEntry], *, limit: int = ZIP_PART_LIMIT
) -> list[tuple[str, bytes]]:
    """ZIP parts (name, bytes) each under `limit`, holding every entry once."""
    raise NotImplementedError
