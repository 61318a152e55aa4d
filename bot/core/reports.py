"""Report periods, submissions and their rules: file checks, lateness, unit status."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.text import TEXT_LIMITS, fold_diacritics

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # Telegram lets a bot download files up to 20 MB
DEFAULT_TYPES = ("pdf", "doc", "docx", "xls", "xlsx", "odt")
MAX_COMMENT = TEXT_LIMITS["comment"]  # the notice that carries it must fit one message


class PeriodKind(enum.StrEnum):
    MID_YEAR = "mid_year"  # sơ kết 6 tháng
    YEAR_END = "year_end"  # tổng kết năm
    # báo cáo thành tích: a file from each unit proposed for an award at the conference, for
    # the award dossier; no scoring, and only the proposed units owe one (the period's targets)
    ACHIEVEMENT = "achievement"

    @property
    def scored(self) -> bool:
        """Whether a report of this kind is self-scored against the bloc's table."""
        return self is not PeriodKind.ACHIEVEMENT


class LatePolicy(enum.StrEnum):
    ACCEPT = "accept"  # accepted and marked late (the default)
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Period:
    id: int
    bloc_id: int
    kind: PeriodKind
    title: str
    deadline: datetime
    late_policy: LatePolicy
    max_bytes: int
    accepted_types: tuple[str, ...]
    table_id: int
    created_at: datetime | None = None
    conference_id: int | None = None  # an achievement period: the conference that proposed


@dataclass(frozen=True, slots=True)
class Submission:
    id: int
    period_id: int
    unit_id: int
    version: int
    submitted_by: int
    uploaded_by: int
    on_behalf: bool
    file_sha256: str
    file_name: str
    file_size: int
    late: bool
    submitted_at: datetime
    self_total_cp: int
    reviewed_total_cp: int | None = None
    returned_at: datetime | None = None
    return_comment: str | None = None
    resubmit_until: datetime | None = None

    @property
    def total_cp(self) -> int:
        """What counts: the reviewed total where the secretariat reviewed, else the self-score."""
        return self.reviewed_total_cp if self.reviewed_total_cp is not None else self.self_total_cp


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    period_id: int
    unit_id: int
    identity_id: int
    purpose: str  # "submit" | "review"
    on_behalf: bool
    submission_id: int | None
    file_sha256: str | None
    file_name: str | None
    file_size: int | None
    values: dict[str, int] = field(default_factory=dict)


class FileProblem(enum.StrEnum):
    WRONG_TYPE = "wrong_type"
    TOO_LARGE = "too_large"
    EMPTY = "empty"


def extension(filename: str) -> str:
    """The lower-case extension of a file name ('' when it has none)."""
    match = re.search(r"\.([A-Za-z0-9]{1,8})$", filename.strip())
    return match.group(1).lower() if match else ""


def check_file(period: Period, filename: str, size: int | None) -> FileProblem | None:
    """A report file must be of an accepted type and no larger than the period allows."""
    if extension(filename) not in period.accepted_types:
        return FileProblem.WRONG_TYPE
    if size is not None and size > period.max_bytes:
        return FileProblem.TOO_LARGE
    if size == 0:
        return FileProblem.EMPTY
    return None


class Timing(enum.StrEnum):
    ON_TIME = "on_time"
    LATE = "late"  # accepted, marked late
    REFUSED = "refused"  # late under the "refuse" policy


def timing(period: Period, now: datetime, resubmit_until: datetime | None = None) -> Timing:
    """Before the deadline a report is on time; a report returned for correction may come back
    on time until the date the secretariat set; after that the late policy decides."""
    if now < period.deadline:
        return Timing.ON_TIME
    if resubmit_until is not None and now < resubmit_until:
        return Timing.ON_TIME
    return Timing.LATE if period.late_policy is LatePolicy.ACCEPT else Timing.REFUSED


def resubmit_window(versions: Sequence[Submission]) -> datetime | None:
    """Until when a unit may still resubmit on time after a return for correction.

    The latest date the secretariat set on any version counts: a correction sent within the
    window does not use it up, so the unit may correct again until that date.
    """
    dates = [v.resubmit_until for v in versions if v.resubmit_until is not None]
    return max(dates) if dates else None


class UnitStatus(enum.StrEnum):
    MISSING = "missing"
    SUBMITTED = "submitted"
    LATE = "late"
    RETURNED = "returned"


def unit_status(latest: Submission | None) -> UnitStatus:
    """Where a unit stands for a period, from its latest submission."""
    if latest is None:
        return UnitStatus.MISSING
    if latest.returned_at is not None:
        return UnitStatus.RETURNED
    return UnitStatus.LATE if latest.late else UnitStatus.SUBMITTED


_KINDS = {
    "year end": PeriodKind.YEAR_END,
    "year_end": PeriodKind.YEAR_END,
    "tong ket": PeriodKind.YEAR_END,
    "tong ket nam": PeriodKind.YEAR_END,
    "cuoi nam": PeriodKind.YEAR_END,
    "mid year": PeriodKind.MID_YEAR,
    "mid_year": PeriodKind.MID_YEAR,
    "so ket": PeriodKind.MID_YEAR,
    "so ket 6 thang": PeriodKind.MID_YEAR,
    "giua nam": PeriodKind.MID_YEAR,
}
_POLICIES = {
    "accept": LatePolicy.ACCEPT,
    "nhan": LatePolicy.ACCEPT,
    "nhan muon": LatePolicy.ACCEPT,
    "refuse": LatePolicy.REFUSE,
    "tu choi": LatePolicy.REFUSE,
    "khong nhan": LatePolicy.REFUSE,
}


def parse_kind(text: str) -> PeriodKind | None:
    return _KINDS.get(fold_diacritics(text).replace("-", " "))


def parse_policy(text: str) -> LatePolicy | None:
    return _POLICIES.get(fold_diacritics(text))


KNOWN_TYPES = ("pdf", "doc", "docx", "xls", "xlsx", "odt", "ods", "zip", "rar", "jpg", "png")


def parse_max_mb(text: str) -> int | None:
    """ "10", "10 MB", "10mb": the largest report file, in bytes (1 to 20 MB, Telegram's limit)."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*(?:mb|MB|Mb)?\s*", text)
    if match is None or not 1 <= int(match.group(1)) <= 20:
        return None
    return int(match.group(1)) * 1024 * 1024


def parse_types(text: str) -> tuple[str, ...] | None:
    """ "pdf, docx" or "pdf docx": accepted file types among those a report can be."""
    words = tuple(dict.fromkeys(w.lstrip(".").lower() for w in re.split(r"[\s,;/]+", text) if w))
    if not words or any(w not in KNOWN_TYPES for w in words):
        return None
    return words


_DATE = re.compile(
    r"^\s*(?:(\d{1,2})[:hg](\d{2})?\s+)?(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
    r"(?:\s+(\d{1,2})[:hg](\d{2})?)?\s*$"
)


MIN_YEAR, MAX_YEAR = 2000, 2100  # a deadline outside these years is a typing mistake


@dataclass(frozen=True, slots=True)
class LocalDateTime:
    """A wall-clock time in the bloc's timezone, as typed (not yet attached to a zone)."""

    year: int
    month: int
    day: int
    hour: int
    minute: int


def parse_local_datetime(text: str, *, default_hour: int = 17) -> LocalDateTime | None:
    """ "15/12/2022 17:00", "17h 15/12/2022", "15/12/2022" (17:00, end of office hours).

    Years run from 2000 to 2100: year 1 or 9999 would overflow when moved to UTC.
    """
    match = _DATE.match(text)
    if match is None:
        return None
    h1, m1, day, month, year, h2, m2 = match.groups()
    hour_text, minute_text = (h1, m1) if h1 is not None else (h2, m2)
    hour = int(hour_text) if hour_text is not None else default_hour
    minute = int(minute_text) if minute_text is not None else 0
    if not MIN_YEAR <= int(year) <= MAX_YEAR:
        return None
    try:
        datetime(int(year), int(month), int(day), hour, minute)  # noqa: DTZ001 (validation only)
    except ValueError:
        return None
    return LocalDateTime(int(year), int(month), int(day), hour, minute)
