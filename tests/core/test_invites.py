"""Invite codes: format, typo tolerance, hashing, validity and the guessing budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.core.invites import (
    AttemptBudget,
    InviteRejection,
    attempt_budget,
    check_invite,
    code_in_message,
    display_code,
    encode_code,
    find_codes,
    hash_code,
    normalise_code,
    ttl_for,
)
from bot.core.models import Invite, Role

NOW = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ten_bytes = st.binary(min_size=10, max_size=10)


def decode(code: str) -> bytes:
    """Independent Crockford decoding, to check encode_code loses nothing."""
    number = 0
    for char in code:
        number = number * 32 + CROCKFORD.index(char)
    return number.to_bytes(10, "big")


@pytest.mark.parametrize(
    ("random_bytes", "code"),
    [
        (bytes(10), "0000000000000000"),
        (b"\xff" * 10, "ZZZZZZZZZZZZZZZZ"),
        (bytes(9) + b"\x01", "0000000000000001"),
        (b"\x80" + bytes(9), "G000000000000000"),
        (bytes(range(10)), "000G40R40M30E209"),
    ],
)
def test_encode_code_literals(random_bytes: bytes, code: str) -> None:
    assert encode_code(random_bytes) == code


@pytest.mark.parametrize("size", [0, 9, 11, 16])
def test_encode_code_needs_exactly_ten_bytes(size: int) -> None:
    with pytest.raises(ValueError, match="10 random bytes"):
        encode_code(bytes(size))


def test_display_code_groups_in_fours() -> None:
    assert display_code("ABCD0123EFGH4567") == "ABCD-0123-EFGH-4567"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ABCD0123EFGH4567", "ABCD0123EFGH4567"),
        ("ABCD-0123-EFGH-4567", "ABCD0123EFGH4567"),
        ("ABCD 0123 EFGH 4567", "ABCD0123EFGH4567"),
        ("  abcd-0123\tefgh_4567\n", "ABCD0123EFGH4567"),
        ("abcd0123efgh4567", "ABCD0123EFGH4567"),
        ("OOOO-oooo-0000-0000", "0000000000000000"),
        ("IIII-iiii-LLLL-llll", "1111111111111111"),
        ("ABCD-0123-EFGH-456", None),  # 15 characters
        ("ABCD-0123-EFGH-45678", None),  # 17 characters
        ("", None),
        ("----", None),
        ("ABCD-0123-EFGH-456U", None),  # U is not in the alphabet
        ("ABCD-0123-EFGH-456!", None),
        ("ABCD.0123.EFGH.4567", None),
    ],
)
def test_normalise_code(typed: str, expected: str | None) -> None:
    assert normalise_code(typed) == expected


def test_hash_code_is_sha256_of_the_bare_code() -> None:
    assert hash_code("0000000000000000") == (
        "fcdb4b423f4e5283afa249d762ef6aef150e91fccd810d43e5e719d14512dec7"
    )
    assert hash_code("ABCD0123EFGH4567") == (
        "63a5e1e9381777d02bbc4fef31d6b263ea95f3b54811be418af1c18f2c7160af"
    )
    typed = normalise_code("abcd-0123-efgh-4567")
    assert typed is not None
    assert hash_code(typed) == hash_code("ABCD0123EFGH4567")


BASE = Invite(
    id=1,
    bloc_id=1,
    unit_id=3,
    role=Role.REPRESENTATIVE,
    max_uses=1,
    uses=0,
    expires_at=NOW + timedelta(days=14),
)


def invite(**changes: Any) -> Invite:
    return replace(BASE, **changes)


def test_check_invite_ok_until_the_last_microsecond() -> None:
    inv = invite()
    assert check_invite(inv, NOW) is None
    assert check_invite(inv, inv.expires_at - timedelta(microseconds=1)) is None


def test_check_invite_expired_exactly_at_expiry() -> None:
    inv = invite()
    assert check_invite(inv, inv.expires_at) is InviteRejection.EXPIRED
    assert check_invite(inv, inv.expires_at + timedelta(seconds=1)) is InviteRejection.EXPIRED


def test_check_invite_used() -> None:
    assert check_invite(invite(uses=1), NOW) is InviteRejection.USED
    assert check_invite(invite(max_uses=3, uses=2), NOW) is None
    assert check_invite(invite(max_uses=3, uses=3), NOW) is InviteRejection.USED


def test_check_invite_revoked_wins_over_used_and_expired() -> None:
    revoked = invite(revoked_at=NOW - timedelta(hours=1))
    assert check_invite(revoked, NOW) is InviteRejection.REVOKED
    everything = invite(uses=1, revoked_at=NOW, expires_at=NOW - timedelta(days=1))
    assert check_invite(everything, NOW) is InviteRejection.REVOKED
    assert check_invite(invite(uses=1, expires_at=NOW), NOW) is InviteRejection.USED


@pytest.mark.parametrize(
    ("role", "ttl"),
    [
        (Role.REPRESENTATIVE, timedelta(days=14)),
        (Role.SECRETARIAT, timedelta(hours=48)),
        (Role.OBSERVER, timedelta(hours=48)),
    ],
)
def test_ttl_for(role: Role, ttl: timedelta) -> None:
    assert ttl_for(role) == ttl


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_attempt_budget_no_failures() -> None:
    assert attempt_budget([], NOW) == AttemptBudget(allowed=True, retry_after=timedelta(0))


def test_attempt_budget_four_failures_allowed() -> None:
    failures = [ago(9), ago(5), ago(1), ago(0)]
    assert attempt_budget(failures, NOW) == AttemptBudget(True, timedelta(0))


def test_attempt_budget_five_in_ten_minutes_blocked_until_oldest_ages_out() -> None:
    failures = [ago(1), ago(9), ago(3), ago(2), ago(0)]  # order does not matter
    budget = attempt_budget(failures, NOW)
    assert budget == AttemptBudget(allowed=False, retry_after=timedelta(minutes=1))
    assert attempt_budget(failures, NOW + budget.retry_after).allowed
    assert not attempt_budget(failures, NOW + budget.retry_after - timedelta(seconds=1)).allowed


def test_attempt_budget_six_failures_wait_for_the_second_oldest() -> None:
    failures = [ago(9.5), ago(9), ago(3), ago(2), ago(1), ago(0)]
    budget = attempt_budget(failures, NOW)
    assert budget == AttemptBudget(allowed=False, retry_after=timedelta(minutes=1))


def test_attempt_budget_ignores_aged_out_failures() -> None:
    # Exactly ten minutes old no longer counts; older ones never do.
    failures = [ago(10), ago(11), ago(60), ago(4), ago(3), ago(2), ago(1)]
    assert attempt_budget(failures, NOW) == AttemptBudget(True, timedelta(0))
    assert not attempt_budget([*failures, ago(0.5)], NOW).allowed


@settings(database=None, max_examples=200)
@given(ten_bytes)
def test_encode_code_property(random_bytes: bytes) -> None:
    code = encode_code(random_bytes)
    assert len(code) == 16
    assert set(code) <= set(CROCKFORD)
    assert normalise_code(code) == code
    assert normalise_code(display_code(code)) == code
    assert normalise_code(display_code(code).lower()) == code
    assert decode(code) == random_bytes


@settings(database=None, max_examples=200)
@given(ten_bytes, ten_bytes)
def test_distinct_bytes_give_distinct_codes(first: bytes, second: bytes) -> None:
    assume(first != second)
    assert encode_code(first) != encode_code(second)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1EG1H2210QV4JKKH", "1EG1H2210QV4JKKH"),
        ("  1eg1-h221-0qv4-jkkh ", "1eg1-h221-0qv4-jkkh"),
        (
            "Liên kết: https://t.me/thidua_bot?start=1EG1H2210QV4JKKH\nMã: 1EG1-H221-0QV4-JKKH",
            "1EG1H2210QV4JKKH",
        ),
        ("Mã của đơn vị: 1EG1-H221-0QV4-JKKH nhé", "1EG1-H221-0QV4-JKKH"),
        ("Internationalize giúp tôi mẫu báo cáo", None),
        ("Xin chào", None),
    ],
)
def test_code_in_a_private_message(text: str, expected: str | None) -> None:
    assert code_in_message(text) == expected


def test_find_codes_in_group_text() -> None:
    text = "mã 1eg1-h221-0qv4-jkkh và 9BRVD2X6NDFMZYWN, còn ABCDEFGHIJKLMNOPQ thì không"
    assert find_codes(text) == {"1EG1H2210QV4JKKH", "9BRVD2X6NDFMZYWN"}
