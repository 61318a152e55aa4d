"""The audit hash chain: HMAC-linked rows that cannot be re-chained without the key."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.audit import (
    GENESIS,
    AuditEntry,
    ChainBreak,
    canonical,
    chain_hash,
    head_mac,
    heads_in,
    key_check,
    verify_chain,
)

KEY = b"audit-key-for-core-tests-0123456"
OTHER_KEY = b"attacker-key-without-the-secret!"
AT = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)
Row = tuple[AuditEntry, str, str]

FIRST = AuditEntry(
    bloc_id=1,
    seq=1,
    at=AT,
    actor_identity_id=7,
    unit_id=None,
    action="bloc.created",
    details={"name": "Khối VHXH", "year": 2024},
)


def entries() -> list[AuditEntry]:
    return [
        FIRST,
        AuditEntry(1, 2, AT + timedelta(minutes=1), 7, 3, "unit.added", {"short_name": "SYT"}),
        AuditEntry(1, 3, AT + timedelta(minutes=2), 7, 3, "invite.issued", {"role": "rep"}),
        AuditEntry(1, 4, AT + timedelta(minutes=3), None, None, "invite.expired", {}),
    ]


def build_chain(key: bytes, items: list[AuditEntry]) -> list[Row]:
    rows: list[Row] = []
    prev = GENESIS
    for entry in items:
        row_hash = chain_hash(key, prev, entry)
        rows.append((entry, prev, row_hash))
        prev = row_hash
    return rows


def test_canonical_bytes_are_stable() -> None:
    assert (
        canonical(FIRST)
        == (
            '{"action":"bloc.created","actor":7,"at":"2024-11-25T01:00:00+00:00","bloc":1,'
            '"details":{"name":"Khối VHXH","year":2024},"seq":1,"unit":null}'
        ).encode()
    )


def test_chain_hash_literal() -> None:
    # Pinned: changing the canonical form would break every stored chain.
    assert chain_hash(b"k" * 32, GENESIS, FIRST) == (
        "3efde0ce8c91944b6c56ea11be5d0fe5b0bf8097dd7497b001a75cd2b002d512"
    )


def test_chain_hash_depends_on_key_prev_and_row() -> None:
    base = chain_hash(KEY, GENESIS, FIRST)
    assert chain_hash(OTHER_KEY, GENESIS, FIRST) != base
    assert chain_hash(KEY, "1" * 64, FIRST) != base
    assert (
        chain_hash(KEY, GENESIS, replace(FIRST, details={"name": "Khối X", "year": 2024})) != base
    )
    assert chain_hash(KEY, GENESIS, replace(FIRST, actor_identity_id=8)) != base


def test_same_instant_in_another_offset_hashes_the_same() -> None:
    # Storage hands times back in UTC, so a row appended with +07:00 must still verify.
    hanoi = AT.astimezone(timezone(timedelta(hours=7)))
    assert chain_hash(KEY, GENESIS, replace(FIRST, at=hanoi)) == chain_hash(KEY, GENESIS, FIRST)


def test_intact_chain_verifies() -> None:
    assert verify_chain(KEY, build_chain(KEY, entries())) is None
    assert verify_chain(KEY, []) is None


def test_altered_details_break_the_hash_at_that_row() -> None:
    rows = build_chain(KEY, entries())
    entry, prev, row_hash = rows[1]
    rows[1] = (replace(entry, details={"short_name": "STC"}), prev, row_hash)
    assert verify_chain(KEY, rows) == ChainBreak(1, 2, "hash")


def test_altered_time_or_action_break_the_hash() -> None:
    rows = build_chain(KEY, entries())
    entry, prev, row_hash = rows[2]
    rows[2] = (replace(entry, at=entry.at + timedelta(seconds=1)), prev, row_hash)
    assert verify_chain(KEY, rows) == ChainBreak(1, 3, "hash")
    rows = build_chain(KEY, entries())
    entry, prev, row_hash = rows[3]
    rows[3] = (replace(entry, action="invite.revoked"), prev, row_hash)
    assert verify_chain(KEY, rows) == ChainBreak(1, 4, "hash")


def test_altered_prev_breaks_the_link() -> None:
    rows = build_chain(KEY, entries())
    entry, _prev, row_hash = rows[1]
    rows[1] = (entry, "f" * 64, row_hash)
    assert verify_chain(KEY, rows) == ChainBreak(1, 2, "link")


def test_first_row_must_start_from_genesis() -> None:
    rows = build_chain(KEY, entries())
    entry, _prev, row_hash = rows[0]
    rows[0] = (entry, "1" * 64, row_hash)
    assert verify_chain(KEY, rows) == ChainBreak(1, 1, "link")


def test_missing_row_is_a_gap() -> None:
    rows = build_chain(KEY, entries())
    del rows[1]
    assert verify_chain(KEY, rows) == ChainBreak(1, 3, "gap")


def test_missing_first_row_is_a_gap() -> None:
    rows = build_chain(KEY, entries())
    assert verify_chain(KEY, rows[1:]) == ChainBreak(1, 2, "gap")


def test_removed_row_with_relinked_successor_still_fails() -> None:
    # Renumbering and relinking after a deletion needs the key to recompute the hashes.
    items = entries()
    del items[1]
    items = [replace(e, seq=i + 1) for i, e in enumerate(items)]
    honest = build_chain(KEY, entries())
    forged = build_chain(OTHER_KEY, items)
    rows = [honest[0], *forged[1:]]
    rows[1] = (rows[1][0], honest[0][2], rows[1][2])
    assert verify_chain(KEY, rows) == ChainBreak(1, 2, "hash")


def test_chain_rebuilt_with_another_key_fails_at_the_first_row() -> None:
    forged = build_chain(OTHER_KEY, entries())
    assert verify_chain(OTHER_KEY, forged) is None  # consistent under the wrong key
    assert verify_chain(KEY, forged) == ChainBreak(1, 1, "hash")


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical(replace(FIRST, at=datetime(2024, 11, 25, 1, 0)))  # noqa: DTZ001


def test_heads_are_read_as_printed_on_the_documents() -> None:
    whole = "3fa4" + "0" * 56 + "beef"
    text = (
        "# heads of 2024, copied from the records\n"
        "\n"
        f"Mã kiểm chứng nhật ký: {whole}\n"
        "📄 Biên bản hội nghị số 01/BB-VHXH … Mã kiểm chứng nhật ký: "
        "<code>0123456789ABCDEF</code>…\n"
        f"  {whole[:20]}  \n"
        "Biên bản số 01/BB-VHXH\n"
        "0123456789abcde\n"  # 15 digits: too short to name a head
    )
    assert heads_in(text) == ([whole, "0123456789abcdef", whole[:20]], [6, 7])


def test_the_head_mac_binds_the_hash_to_its_bloc_and_position() -> None:
    key = b"audit-key-0123456789abcdef"
    mac = head_mac(key, 1, 3, "ab" * 32)
    assert len(mac) == 64
    assert mac != head_mac(key, 1, 2, "ab" * 32)
    assert mac != head_mac(key, 2, 3, "ab" * 32)
    assert mac != head_mac(b"another-key-0123456789abcd", 1, 3, "ab" * 32)
    assert key_check(key) != key_check(b"another-key-0123456789abcd")
