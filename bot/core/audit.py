"""The audit log's hash chain: each row's hash is an HMAC over the previous hash and the row.

Without the key nobody can re-chain an altered log so that it verifies again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    bloc_id: int
    seq: int
    at: datetime
    actor_identity_id: int | None
    unit_id: int | None
    action: str
    details: dict[str, Any]


def canonical(entry: AuditEntry) -> bytes:
    """The exact bytes that are hashed for a row: stable key order, UTC ISO time."""
    if entry.at.utcoffset() is None:
        raise ValueError("audit times must be timezone-aware")
    payload = {
        "bloc": entry.bloc_id,
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor": entry.actor_identity_id,
        "unit": entry.unit_id,
        "action": entry.action,
        "details": entry.details,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def chain_hash(key: bytes, prev_hash: str, entry: AuditEntry) -> str:
    """row hash = HMAC(key, previous hash ‖ row)."""
    return hmac.new(key, prev_hash.encode("ascii") + canonical(entry), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    bloc_id: int
    seq: int
    reason: str


def verify_chain(key: bytes, rows: list[tuple[AuditEntry, str, str]]) -> ChainBreak | None:
    """First row (by seq) whose link or hash does not hold; rows are (entry, prev, hash)."""
    expected_prev = GENESIS
    expected_seq = 1
    for entry, prev_hash, row_hash in rows:
        if entry.seq != expected_seq:
            return ChainBreak(entry.bloc_id, entry.seq, "gap")
        if prev_hash != expected_prev:
            return ChainBreak(entry.bloc_id, entry.seq, "link")
        if not hmac.compare_digest(chain_hash(key, prev_hash, entry), row_hash):
            return ChainBreak(entry.bloc_id, entry.seq, "hash")
        expected_prev = row_hash
        expected_seq += 1
    return None
