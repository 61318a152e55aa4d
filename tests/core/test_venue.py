"""The venue check-in code and when check-in needs it; the hall screen link's day."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.screen import ScreenProblem, screen_expires_at, screen_problem
from bot.core.venue import (
    code_valid_until,
    venue_checkin_on,
    venue_code,
    venue_code_ok,
    venue_key,
)

KEY = venue_key(b"server secret")
AT = datetime(2024, 12, 20, 1, 30, 15, tzinfo=UTC)


@dataclass(frozen=True)
class Setting:
    venue_checkin: bool | None
    place: str


@pytest.mark.parametrize(
    ("setting", "on"),
    [
        (Setting(None, "Hội trường Sở Y tế"), True),  # the default: a place to be in
        (Setting(None, ""), False),
        (Setting(None, "   "), False),
        (Setting(True, ""), True),  # as the secretariat set it
        (Setting(False, "Hội trường Sở Y tế"), False),
    ],
)
def test_venue_checkin_is_on_as_set_or_when_there_is_a_place(setting: Setting, on: bool) -> None:
    assert venue_checkin_on(setting) is on


def test_the_code_turns_each_minute_and_the_last_one_is_still_taken() -> None:
    code = venue_code(KEY, 7, AT)
    assert re.fullmatch(r"\d{6}", code)
    assert code_valid_until(AT) == datetime(2024, 12, 20, 1, 31, tzinfo=UTC)
    assert venue_code_ok(KEY, 7, code, AT + timedelta(seconds=50))
    assert venue_code_ok(KEY, 7, f"{code[:3]} {code[3:]}", AT + timedelta(seconds=60))
    assert not venue_code_ok(KEY, 7, code, AT + timedelta(seconds=120))


def test_a_screen_link_lives_till_the_end_of_the_conference_day_in_the_bloc_s_zone() -> None:
    held = datetime(2024, 12, 20, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
    end = screen_expires_at(held, "Asia/Ho_Chi_Minh")
    assert end == datetime(2024, 12, 20, 17, 0, tzinfo=UTC)  # midnight in Hà Nội
    # 23:30 UTC on the 19th is already the 20th in Hà Nội: the same day ends the link.
    assert screen_expires_at(datetime(2024, 12, 19, 23, 30, tzinfo=UTC), "Asia/Ho_Chi_Minh") == end

    def problem(*, found: bool = True, revoked: bool = False, at: datetime) -> object:
        return screen_problem(
            found=found,
            revoked_at=held if revoked else None,
            expires_at=end if found else None,
            now=at,
        )

    assert problem(at=end - timedelta(seconds=1)) is None
    assert problem(at=end) is ScreenProblem.EXPIRED
    assert problem(revoked=True, at=held) is ScreenProblem.REVOKED
    assert problem(found=False, at=held) is ScreenProblem.UNKNOWN
