"""Report rules with literal data: deadlines as typed, and the correction window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.reports import LocalDateTime, Submission, parse_local_datetime, resubmit_window

T0 = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/12/2024 17:00", LocalDateTime(2024, 12, 15, 17, 0)),
        ("17h 15/12/2024", LocalDateTime(2024, 12, 15, 17, 0)),
        ("15/12/2024", LocalDateTime(2024, 12, 15, 17, 0)),
        ("01/01/2000 00:00", LocalDateTime(2000, 1, 1, 0, 0)),
        ("31/12/2100 23:59", LocalDateTime(2100, 12, 31, 23, 59)),
    ],
)
def test_deadlines_as_typed(text: str, expected: LocalDateTime) -> None:
    assert parse_local_datetime(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "01/01/0001 00:00",  # would overflow when moved to UTC
        "31/12/9999 23:59",
        "31/12/1999 17:00",
        "01/01/2101",
        "31/11/2024 17:00",
        "15/12/2024 25:00",
    ],
)
def test_dates_outside_2000_to_2100_or_impossible_are_refused(text: str) -> None:
    assert parse_local_datetime(text) is None


def version(n: int, until: datetime | None = None) -> Submission:
    return Submission(
        id=n,
        period_id=1,
        unit_id=1,
        version=n,
        submitted_by=1,
        uploaded_by=1,
        on_behalf=False,
        file_sha256="0" * 64,
        file_name="bc.pdf",
        file_size=1,
        late=False,
        submitted_at=T0,
        self_total_cp=0,
        returned_at=T0 if until else None,
        resubmit_until=until,
    )


def test_the_correction_window_is_not_used_up_by_a_resubmission() -> None:
    until = datetime(2024, 12, 20, 10, 0, tzinfo=UTC)
    # v1 returned until the 20th; v2 sent within the window has no date of its own.
    assert resubmit_window([version(1, until), version(2)]) == until
    assert resubmit_window([version(1, until), version(2), version(3)]) == until


def test_the_latest_date_set_counts() -> None:
    early = datetime(2024, 12, 18, 10, 0, tzinfo=UTC)
    late = datetime(2024, 12, 22, 10, 0, tzinfo=UTC)
    assert resubmit_window([version(1, late), version(2, early)]) == late
    assert resubmit_window([version(1), version(2)]) is None
    assert resubmit_window([]) is None
