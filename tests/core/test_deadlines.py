"""When reminders go: offsets, collapsing missed ones, quiet hours both ways, the digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.deadlines import (
    DAY,
    DEFAULT_OFFSETS,
    HOUR,
    MINUTE,
    DeadlineKind,
    QuietHours,
    digest_due,
    parse_offsets,
    remaining,
    reminder_due,
    shift_for_quiet,
)

TZ = "Asia/Ho_Chi_Minh"
QUIET = QuietHours(time(21, 0), time(7, 0))
REPORT = DEFAULT_OFFSETS[DeadlineKind.REPORT]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in December 2024, Hanoi time, as UTC."""
    return datetime(2024, 12, day, hour, minute, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


DUE = local(20, 17)  # 17:00 Friday 20/12/2024


def test_each_offset_becomes_due_in_turn_and_none_after_the_deadline() -> None:
    assert reminder_due(local(13, 16, 59), DUE, REPORT, TZ, QUIET) is None
    assert reminder_due(local(13, 17), DUE, REPORT, TZ, QUIET) == 7 * DAY
    assert reminder_due(local(17, 17), DUE, REPORT, TZ, QUIET) == 3 * DAY
    assert reminder_due(local(19, 17), DUE, REPORT, TZ, QUIET) == DAY
    assert reminder_due(local(20, 15), DUE, REPORT, TZ, QUIET) == 2 * HOUR
    assert reminder_due(local(20, 17), DUE, REPORT, TZ, QUIET) is None


def test_reminders_missed_while_down_collapse_into_the_latest() -> None:
    # Down from the 13th to the 19th at 18:00: the 7-day and 3-day reminders were missed,
    # the 1-day one is the one due.
    assert reminder_due(local(19, 18), DUE, REPORT, TZ, QUIET) == DAY


def test_a_reminder_inside_quiet_hours_goes_at_their_end() -> None:
    due = local(20, 8)  # 08:00: the 2-hour reminder would be at 06:00
    assert shift_for_quiet(local(20, 6), due, TZ, QUIET) == local(20, 7)
    assert reminder_due(local(20, 6, 30), due, (2 * HOUR,), TZ, QUIET) is None
    assert reminder_due(local(20, 7), due, (2 * HOUR,), TZ, QUIET) == 2 * HOUR


def test_a_reminder_inside_quiet_hours_goes_at_their_start_when_the_end_is_too_late() -> None:
    due = local(20, 6, 30)  # 06:30: the quiet hours end at 07:00, after the deadline
    assert shift_for_quiet(local(20, 4, 30), due, TZ, QUIET) == local(19, 21)
    assert reminder_due(local(19, 21), due, (2 * HOUR,), TZ, QUIET) == 2 * HOUR
    # Before midnight too: 23:30 deadline, a 1-hour reminder at 22:30 goes at 21:00.
    late = local(20, 23, 30)
    assert shift_for_quiet(local(20, 22, 30), late, TZ, QUIET) == local(20, 21)


def test_a_missed_reminder_waits_for_the_end_of_quiet_hours_too() -> None:
    # Down until 06:30 on the day of an 08:00 deadline: the 1-day reminder was missed; it
    # is not sent inside the quiet hours, and at 07:00 the 2-hour one goes instead.
    due = local(20, 8)
    assert reminder_due(local(20, 6, 30), due, REPORT, TZ, QUIET) is None
    assert reminder_due(local(20, 7), due, REPORT, TZ, QUIET) == 2 * HOUR


def test_no_quiet_hours_and_daytime_quiet_hours() -> None:
    assert shift_for_quiet(local(20, 3), DUE, TZ, QuietHours(time(0), time(0))) == local(20, 3)
    lunch = QuietHours(time(11, 30), time(13, 30))
    assert shift_for_quiet(local(20, 12), DUE, TZ, lunch) == local(20, 13, 30)


def test_a_ballot_reminder_ten_minutes_before_the_close() -> None:
    close = local(20, 10, 30)
    offsets = DEFAULT_OFFSETS[DeadlineKind.BALLOT]
    assert reminder_due(local(20, 10, 19), close, offsets, TZ, QUIET) is None
    assert reminder_due(local(20, 10, 20), close, offsets, TZ, QUIET) == 10 * MINUTE


def test_the_digest_from_eight_in_the_morning() -> None:
    assert digest_due(local(20, 7, 59), TZ) is None
    assert digest_due(local(20, 8), TZ) == date(2024, 12, 20)
    assert digest_due(local(20, 20, 59), TZ) == date(2024, 12, 20)
    assert digest_due(local(20, 21, 30), TZ) is None  # quiet hours


def test_time_left() -> None:
    # As people say it: to the hour from a day on, to five minutes from an hour on.
    assert remaining(local(18, 14, 30), DUE) == (2, 3, 0)
    assert remaining(local(18, 14, 29), DUE) == (2, 3, 0)
    assert remaining(local(18, 14, 31), DUE) == (2, 2, 0)
    assert remaining(local(13, 17) + timedelta(seconds=30), DUE) == (7, 0, 0)
    assert remaining(local(19, 17, 10), DUE) == (1, 0, 0)
    assert remaining(local(19, 17, 40), DUE) == (0, 23, 20)
    assert remaining(local(20, 15) + timedelta(seconds=30), DUE) == (0, 2, 0)
    assert remaining(local(20, 15, 29), DUE) == (0, 1, 30)
    assert remaining(local(20, 16, 15), DUE) == (0, 0, 45)
    assert remaining(DUE - timedelta(seconds=20), DUE) == (0, 0, 0)  # under a minute
    assert remaining(DUE + timedelta(minutes=5), DUE) == (0, 0, 0)


@pytest.mark.parametrize(
    ("text", "offsets"),
    [
        ("7d, 3d, 1d, 2h", (7 * DAY, 3 * DAY, DAY, 2 * HOUR)),
        ("2 giờ; 1 ngày", (DAY, 2 * HOUR)),
        ("30m", (30 * MINUTE,)),
        ("", None),
        ("ba ngày", None),
        ("0h", None),
        ("200d", None),
    ],
)
def test_offsets_as_the_secretariat_types_them(
    text: str, offsets: tuple[timedelta, ...] | None
) -> None:
    assert parse_offsets(text) == offsets
