"""The audit log's hash chain: each row's hash is an HMAC over the previous hash and the row.

Without the key nobody can re-chain an altered log so that it verifies again. The head row
(the bloc's last seq and hash) carries a MAC of its position, so moving it back over deleted
rows needs the key; a head known from outside (printed on every record, set of minutes and
group result) must still be in the chain, which catches a cut tail even with the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# A head as it appears on a document: the whole hash, or (a minutes caption) its first 16
# hexadecimal digits.
HEAD_MIN_DIGITS = 16
_HEAD = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{16,64}(?![0-9A-Fa-f])")


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


def key_check(key: bytes) -> str:
    """The key-check value of AUDIT_KEY, kept in the database so that a start with another
    key is refused (its rows would never verify beside the old ones). One-way."""
    return hmac.new(key, b"thidua-bot audit key check v1", hashlib.sha256).hexdigest()[:32]


def head_mac(key: bytes, bloc_id: int, seq: int, head_hash: str) -> str:
    """MAC of a bloc's head with its position: moving the head back over deleted rows, or
    forward over forged ones, needs the key."""
    message = f"audit head v1|{bloc_id}|{seq}|{head_hash}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def heads_in(text: str) -> tuple[list[str], list[int]]:
    """Heads from a file of heads, one a line as printed on the documents ("Mã kiểm chứng
    nhật ký: 3fa4…"); blank lines and lines starting with # are skipped. Returns the heads
    (lower case) and the numbers of lines that hold none."""
    heads: list[str] = []
    unreadable: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        found = [h.lower() for h in _HEAD.findall(stripped)]
        if found:
            heads.extend(found)
        else:
            unreadable.append(number)
    return heads, unreadable
