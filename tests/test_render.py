"""Vietnamese forms the documents and messages use: dates as NĐ 30/2020 writes them, the
session and day as the bloc's articles write them, counts zero-padded, thousands separated."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.render import day_part, long_date, pad2, part_and_day, points, thousands

TZ = "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(
    ("when", "vi", "en"),
    [
        (datetime(2024, 3, 5, 1, 0, tzinfo=UTC), "ngày 05 tháng 3 năm 2024", "5 March 2024"),
        (
            datetime(2022, 12, 20, 1, 0, tzinfo=UTC),
            "ngày 20 tháng 12 năm 2022",
            "20 December 2022",
        ),
        (datetime(2025, 1, 9, 1, 0, tzinfo=UTC), "ngày 09 tháng 01 năm 2025", "9 January 2025"),
        (datetime(2025, 2, 28, 18, 0, tzinfo=UTC), "ngày 01 tháng 3 năm 2025", "1 March 2025"),
    ],
)
def test_long_dates_in_the_blocs_timezone(when: datetime, vi: str, en: str) -> None:
    assert long_date(when, TZ, "vi") == vi
    assert long_date(when, TZ, "en") == en


def test_the_session_of_the_day() -> None:
    morning = datetime(2022, 12, 1, 1, 30, tzinfo=UTC)  # 08:30 in Hà Nội
    afternoon = datetime(2022, 12, 1, 7, 0, tzinfo=UTC)  # 14:00
    evening = datetime(2022, 12, 1, 12, 0, tzinfo=UTC)  # 19:00
    assert [day_part(t, TZ, "vi") for t in (morning, afternoon, evening)] == [
        "Sáng",
        "Chiều",
        "Tối",
    ]
    assert part_and_day(afternoon, TZ, "vi") == "Chiều 01/12"
    assert part_and_day(morning, TZ, "en") == "Morning 1/12"


def test_counts_points_and_thousands() -> None:
    assert [pad2(n) for n in (1, 2, 10, 123)] == ["01", "02", "10", "123"]
    assert thousands(1234567, "vi") == "1.234.567"
    assert thousands(1234567, "en") == "1,234,567"
    assert points(10350, "vi") == "103,5"
    assert points(10350, "en") == "103.5"
    assert points(10000, "vi") == "100"
