"""Sealing secret ballots: keys per ballot, fixed-length sealed choices, receipt codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.invites import CANDIDATE_RE
from bot.core.sealing import (
    RECEIPT_SHAPE,
    SealError,
    ballot_keys,
    display_receipt,
    master_check,
    new_receipt,
    normalise_receipt,
    open_choice,
    open_draft,
    plaintext_size,
    receipt_mac,
    seal_choice,
    seal_draft,
)
from bot.core.voting import Choice

SECRET = b"a-ballot-secret-for-unit-tests-only"
OTHER_SECRET = b"another-ballot-secret-for-tests"


def test_keys_differ_per_ballot_and_per_secret_and_are_stable() -> None:
    one, two = ballot_keys(SECRET, 1), ballot_keys(SECRET, 2)
    assert one == ballot_keys(SECRET, 1)
    assert len({one.seal, one.mac, two.seal, two.mac}) == 4
    assert one.check != two.check
    assert ballot_keys(OTHER_SECRET, 1).check != one.check
    assert master_check(SECRET) == master_check(SECRET) != master_check(OTHER_SECRET)
    # The key-check values reveal no key material.
    assert one.seal.hex() not in one.check
    assert one.mac.hex()[:32] != one.check


@given(
    options=st.integers(min_value=1, max_value=60),
    data=st.data(),
)
def test_every_choice_seals_to_the_same_length_and_opens_again(
    options: int, data: st.DataObject
) -> None:
    keys = ballot_keys(SECRET, 7)
    chosen = data.draw(st.sets(st.integers(0, options - 1), max_size=options))
    blank = data.draw(st.booleans()) and not chosen
    receipt = new_receipt(data.draw(st.binary(min_size=8, max_size=8)))
    sealed = seal_choice(keys, Choice(tuple(sorted(chosen)), blank=blank), options, receipt)
    empty = seal_choice(keys, Choice(blank=True), options, new_receipt(bytes(8)))
    assert len(sealed) == len(empty) == 12 + plaintext_size(options) + 16
    choice, back = open_choice(keys, sealed, options)
    assert choice == Choice(tuple(sorted(chosen)), blank=blank)
    assert back == receipt


def test_a_sealed_choice_does_not_open_under_another_key_or_ballot() -> None:
    keys = ballot_keys(SECRET, 3)
    sealed = seal_choice(keys, Choice((1,)), 4, new_receipt(bytes(range(8))))
    with pytest.raises(SealError):
        open_choice(ballot_keys(OTHER_SECRET, 3), sealed, 4)
    with pytest.raises(SealError):
        open_choice(ballot_keys(SECRET, 4), sealed, 4)  # moved to another ballot's box
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealError):
        open_choice(keys, tampered, 4)


def test_two_seals_of_the_same_choice_differ() -> None:
    keys = ballot_keys(SECRET, 3)
    receipt = new_receipt(bytes(8))
    assert seal_choice(keys, Choice((0,)), 3, receipt) != seal_choice(
        keys, Choice((0,)), 3, receipt
    )


def test_a_draft_is_bound_to_its_unit() -> None:
    keys = ballot_keys(SECRET, 9)
    sealed = seal_draft(keys, 11, (2, 0), 5)
    assert open_draft(keys, 11, sealed, 5) == (0, 2)
    assert len(sealed) == len(seal_draft(keys, 12, (), 5))
    with pytest.raises(SealError):
        open_draft(keys, 12, sealed, 5)  # another unit's draft row cannot be swapped in


def test_a_choice_outside_the_ballot_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the ballot"):
        seal_choice(ballot_keys(SECRET, 1), Choice((4,)), 4, new_receipt(bytes(8)))


def test_receipt_codes_read_back_and_forgive_typing() -> None:
    code = new_receipt(bytes.fromhex("0123456789abcdef"))
    assert len(code) == 12
    shown = display_receipt(code)
    assert shown.count("-") == 2
    assert normalise_receipt(shown) == code
    assert normalise_receipt(f"  {shown.lower()} ") == code
    assert normalise_receipt(code.replace("0", "O").replace("1", "l")) == code
    assert normalise_receipt("ABCD-EFGH-JKM") is None  # 11 characters
    assert normalise_receipt("ABCD-EFGH-JKMU") is None  # U is not in the alphabet
    # Counter-like sources still give distinct codes (the low bits are used).
    assert len({new_receipt(n.to_bytes(8, "big")) for n in range(1, 200)}) == 199


def test_receipt_macs_need_the_key() -> None:
    code = new_receipt(bytes(range(8)))
    assert receipt_mac(ballot_keys(SECRET, 1), code) != receipt_mac(ballot_keys(SECRET, 2), code)
    assert receipt_mac(ballot_keys(SECRET, 1), code) != receipt_mac(
        ballot_keys(OTHER_SECRET, 1), code
    )


@pytest.mark.parametrize(
    ("text", "shaped"),
    [
        ("7KQ2-M9XD-4HTR", True),
        ("7kq2 m9xd 4htr", True),
        ("congratulate", False),  # a twelve-letter word is not a code
        ("001203004567", False),  # a citizen ID number (CCCD): digits only
        ("123456789012", False),
        (" 840912345678 ", False),  # a phone number with its country code
        ("7KQ2M9XD4HTR", True),  # letters and digits
        ("A23456789012", True),
        ("ABCDEFGHJKM1", True),
        ("0012-0300-4567", True),  # grouped: unchanged, digits only or not
        ("0012 0300 4567", True),
        ("AAAA-BBBB-CCCC-DDDD", False),  # an invite code
    ],
)
def test_what_looks_like_a_receipt(text: str, shaped: bool) -> None:
    assert bool(RECEIPT_SHAPE.match(text)) is shaped


def test_a_receipt_is_never_taken_for_an_invite_code() -> None:
    code = display_receipt(new_receipt(bytes(range(8))))
    assert CANDIDATE_RE.search(code) is None
