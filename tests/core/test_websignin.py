"""The web companion's sign-in rules: tokens, link problems, session ends, Mini App launch
data checked as Telegram documents it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.core.websignin import (
    INIT_DATA_MAX_AGE,
    SESSION_IDLE,
    SESSION_LIFETIME,
    SIGNIN_TTL,
    InitDataProblem,
    LinkProblem,
    MiniAppUser,
    check_init_data,
    encode_token,
    hash_token,
    link_problem,
    session_alive,
    sign_init_data,
    well_formed,
)

NOW = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)
BOT_TOKEN = "123456:" + "A" * 35
USER = json.dumps({"id": 2001, "first_name": "An", "language_code": "vi"})


def _launch(*, auth_date: datetime = NOW, user: str | None = USER) -> str:
    fields = {"auth_date": str(int(auth_date.timestamp())), "query_id": "AAHdF6IQAAAAAN0XohDhrOrc"}
    if user is not None:
        fields["user"] = user
    return sign_init_data(fields, BOT_TOKEN)


def test_a_token_is_256_random_bits_in_43_url_safe_characters() -> None:
    token = encode_token(bytes(range(32)))
    assert len(token) == 43
    assert well_formed(token)
    assert not well_formed(token[:-1])  # a truncated link
    assert not well_formed(token + "A")
    assert not well_formed(token[:-1] + "=")
    with pytest.raises(ValueError, match="32 random bytes"):
        encode_token(bytes(16))


def test_only_a_hash_is_stored_and_links_and_sessions_hash_apart() -> None:
    token = encode_token(bytes(range(32)))
    stored = hash_token("signin", token)
    assert len(stored) == 64
    assert token not in stored
    assert stored != hash_token("session", token)


def test_a_link_is_good_once_and_for_ten_minutes() -> None:
    expires = NOW + SIGNIN_TTL
    assert timedelta(minutes=10) == SIGNIN_TTL
    assert link_problem(found=True, used_at=None, expires_at=expires, now=NOW) is None
    assert link_problem(found=True, used_at=NOW, expires_at=expires, now=NOW) == LinkProblem.USED
    assert (
        link_problem(found=True, used_at=None, expires_at=expires, now=expires)
        == LinkProblem.EXPIRED
    )
    assert link_problem(found=False, used_at=None, expires_at=None, now=NOW) == LinkProblem.UNKNOWN


def test_a_session_ends_after_two_idle_hours_or_a_day() -> None:
    assert session_alive(last_seen=NOW, created_at=NOW, now=NOW + SESSION_IDLE - timedelta(1))
    assert not session_alive(last_seen=NOW, created_at=NOW, now=NOW + SESSION_IDLE)
    busy = NOW + SESSION_LIFETIME - timedelta(minutes=1)
    assert session_alive(last_seen=busy, created_at=NOW, now=busy)
    assert not session_alive(last_seen=busy, created_at=NOW, now=NOW + SESSION_LIFETIME)


def test_correctly_signed_launch_data_names_the_telegram_user() -> None:
    assert check_init_data(_launch(), BOT_TOKEN, NOW + timedelta(minutes=5)) == MiniAppUser(
        "2001", NOW
    )


def test_launch_data_with_a_bad_hash_is_refused() -> None:
    fields = dict(parse_qsl(_launch()))
    forged = {**fields, "user": json.dumps({"id": 1000, "first_name": "Admin"})}
    assert check_init_data(urlencode(forged), BOT_TOKEN, NOW) == InitDataProblem.BAD_HASH
    # Signed with another bot's token.
    other = sign_init_data({k: v for k, v in fields.items() if k != "hash"}, "999:" + "B" * 35)
    assert check_init_data(other, BOT_TOKEN, NOW) == InitDataProblem.BAD_HASH
    # Any text may arrive as the hash (not only hex): refused, never an exception.
    odd = urlencode({**fields, "hash": "é" * 64})
    assert check_init_data(odd, BOT_TOKEN, NOW) == InitDataProblem.BAD_HASH


def test_launch_data_older_than_an_hour_is_refused() -> None:
    old = _launch(auth_date=NOW - INIT_DATA_MAX_AGE - timedelta(seconds=1))
    assert check_init_data(old, BOT_TOKEN, NOW) == InitDataProblem.TOO_OLD
    fresh_enough = _launch(auth_date=NOW - INIT_DATA_MAX_AGE + timedelta(seconds=1))
    assert isinstance(check_init_data(fresh_enough, BOT_TOKEN, NOW), MiniAppUser)
    future = _launch(auth_date=NOW + timedelta(minutes=10))
    assert check_init_data(future, BOT_TOKEN, NOW) == InitDataProblem.TOO_OLD


def test_launch_data_without_a_user_is_refused() -> None:
    assert check_init_data(_launch(user=None), BOT_TOKEN, NOW) == InitDataProblem.NO_USER
    assert check_init_data(_launch(user="[1]"), BOT_TOKEN, NOW) == InitDataProblem.NO_USER
    no_id = json.dumps({"id": "2001"})
    assert check_init_data(_launch(user=no_id), BOT_TOKEN, NOW) == InitDataProblem.NO_USER


@pytest.mark.parametrize(
    "init_data",
    ["", "hash=abc", "auth_date=1", "a=1&a=2&hash=x&auth_date=1", "%%%", "auth_date=x&hash=y"],
)
def test_malformed_launch_data_is_refused(init_data: str) -> None:
    assert check_init_data(init_data, BOT_TOKEN, NOW) in (
        InitDataProblem.MALFORMED,
        InitDataProblem.BAD_HASH,
    )
