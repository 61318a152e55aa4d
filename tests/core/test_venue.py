"""The venue check-in code: six digits, a new one every minute, the previous one still taken,
the same on every worker (derived from the server secret), never guessable from another;
when check-in needs it; the hall screen link's day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.screen import ScreenProblem, screen_expires_at, screen_problem
from bot.core.venue import (
    VenueSetting,
    checkin_setting_words,
    code_valid_until,
    normalise_venue_code,
    parse_venue_setting,
    venue_checkin_on,
    venue_code,
    venue_code_ok,
    venue_key,
)

KEY = venue_key(b"test-ballot-secret-0123456789abcdef")
AT = datetime(2024, 12, 20, 0, 45, 30, tzinfo=UTC)


def test_the_code_is_six_digits_and_turns_over_on_the_minute() -> None:
    code = venue_code(KEY, 7, AT)
    assert len(code) == 6
    assert code.isdigit()
    assert venue_code(KEY, 7, AT.replace(second=0)) == code
    assert venue_code(KEY, 7, AT.replace(second=59, microsecond=999_999)) == code
    assert venue_code(KEY, 7, AT.replace(second=0) + timedelta(minutes=1)) != code
    assert code_valid_until(AT) == datetime(2024, 12, 20, 0, 46, tzinfo=UTC)


def test_the_current_and_the_previous_code_are_taken_an_older_one_not() -> None:
    code = venue_code(KEY, 7, AT)
    assert venue_code_ok(KEY, 7, code, AT)
    assert venue_code_ok(KEY, 7, code, AT + timedelta(seconds=40))  # next minute: previous
    assert not venue_code_ok(KEY, 7, code, AT + timedelta(seconds=100))  # two minutes on
    assert not venue_code_ok(KEY, 7, code, AT - timedelta(minutes=1))  # a future code is not


def test_each_conference_and_each_server_secret_has_its_own_codes() -> None:
    codes = {venue_code(KEY, c, AT) for c in range(1, 50)}
    assert len(codes) > 45
    other = venue_key(b"another-server-secret-0123456789")
    assert other != KEY
    assert venue_code(other, 7, AT) != venue_code(KEY, 7, AT)
    assert venue_key(b"test-ballot-secret-0123456789abcdef") == KEY  # every worker agrees


def test_what_people_type_is_read_as_a_code_or_not_at_all() -> None:
    code = venue_code(KEY, 7, AT)
    spaced = f" {code[:3]} {code[3:]} "
    assert normalise_venue_code(spaced) == code
    assert venue_code_ok(KEY, 7, f"{code[:3]}-{code[3:]}", AT)
    for typed in ("", "12345", "1234567", "abcdef", "１２３４５６"):  # full-width digits too
        assert normalise_venue_code(typed) == ""
        assert not venue_code_ok(KEY, 7, typed, AT)


def test_the_setting_defaults_to_the_venue_when_there_is_a_place() -> None:
    assert venue_checkin_on(None, "Hội trường Sở Y tế")
    assert not venue_checkin_on(None, "  ")
    assert venue_checkin_on(True, "")
    assert not venue_checkin_on(False, "Hội trường")


def test_the_secretariat_s_words_for_the_setting() -> None:
    assert checkin_setting_words("checkin on") == "on"
    assert checkin_setting_words("Điểm danh tắt") == "tắt"
    assert checkin_setting_words("diemdanh") == ""
    assert checkin_setting_words("new 20/12/2024") is None
    assert parse_venue_setting("BẬT") is VenueSetting.ON
    assert parse_venue_setting("tắt") is VenueSetting.OFF
    assert parse_venue_setting("tự  động") is VenueSetting.AUTO
    assert parse_venue_setting("maybe") is None
    assert [s.stored for s in VenueSetting] == [True, False, None]


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
