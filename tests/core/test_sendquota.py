"""The monthly send quota's rules, on literal data: thresholds in exact integers, the UTC
month, which outbox messages are urgent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.sendquota import (
    QuotaLevel,
    Usage,
    is_urgent,
    left,
    level,
    month_of,
    warn_due,
)


@pytest.mark.parametrize(
    ("sent", "quota", "expected"),
    [
        (0, 0, QuotaLevel.UNLIMITED),
        (10_000, 0, QuotaLevel.UNLIMITED),
        (2_400, 3_000, QuotaLevel.OPEN),  # 80%: warned, nothing held yet
        (2_699, 3_000, QuotaLevel.OPEN),
        (2_700, 3_000, QuotaLevel.LOW),  # 90%
        (2_999, 3_000, QuotaLevel.LOW),
        (3_000, 3_000, QuotaLevel.EXHAUSTED),
        (3_007, 3_000, QuotaLevel.EXHAUSTED),
        (8, 9, QuotaLevel.OPEN),  # 88.9%: exact arithmetic, no rounding up
        (9, 10, QuotaLevel.LOW),
    ],
)
def test_levels(sent: int, quota: int, expected: QuotaLevel) -> None:
    assert level(sent, quota) is expected


def test_the_warning_is_due_from_80_percent_once_a_month() -> None:
    assert not warn_due(Usage("2024-11", 2_399), 3_000)
    assert warn_due(Usage("2024-11", 2_400), 3_000)
    assert warn_due(Usage("2024-11", 3_100), 3_000)  # the quota was lowered: still once
    warned = datetime(2024, 11, 20, tzinfo=UTC)
    assert not warn_due(Usage("2024-11", 2_500, warned), 3_000)
    assert not warn_due(Usage("2024-11", 10_000), 0)  # unlimited: never
    assert left(2_400, 3_000) == 600
    assert left(3_100, 3_000) == 0


def test_the_month_is_utc() -> None:
    hanoi = timezone(timedelta(hours=7))
    assert month_of(datetime(2024, 12, 1, 6, 59, tzinfo=hanoi)) == "2024-11"
    assert month_of(datetime(2024, 12, 1, 7, 0, tzinfo=hanoi)) == "2024-12"


@pytest.mark.parametrize(
    ("key", "urgent"),
    [
        ("remind:period:3:17:604800", True),
        ("remind:ballot:5:17:3600@zalo", True),
        ("opened:5:17", True),
        ("result:5:17#1@zalo", True),
        ("deadline:2:17", True),
        ("notice:ballot_opened_notice:ab12cd34ef56ab78:17", True),
        ("notice:report_returned_notice:ab12cd34ef56ab78:17", True),
        ("zalo-quota:2024-11:4@zalo", True),
        ("digest:1:2024-11-25:4@zalo", False),
        ("announce:1:1000:77:17@zalo", False),
        ("notice:joined_colleague:ab12cd34ef56ab78:17", False),
        ("newyear:1:2025:17", False),
        ("something-new:1", False),  # a new producer is held, not lost, until listed
    ],
)
def test_urgent_messages(key: str, urgent: bool) -> None:
    assert is_urgent(key) is urgent
