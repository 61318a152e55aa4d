"""Invite codes: format, hashing and the rules for using one.

A code is 16 Crockford base32 characters (80 random bits), shown as ``XXXX-XXXX-XXXX-XXXX``
and sent bare in deep links. Only its SHA-256 is stored.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.models import Invite, Role

CODE_LENGTH = 16
CODE_BYTES = 10  # 80 bits, at least the 64 bits the rules ask for
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_TYPO_MAP = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE_RE = re.compile(rf"^[{_ALPHABET}]{{{CODE_LENGTH}}}$")
# Something a person might paste as a code: 16 code characters, optionally grouped by dashes.
CANDIDATE_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9A-Za-z]{4}[-\s]?){3}[0-9A-Za-z]{4}(?![0-9A-Za-z])"
)

_START_LINK = re.compile(r"\?start=([0-9A-Za-z_-]+)")
_DASHED = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Za-z]{4}-){3}[0-9A-Za-z]{4}(?![0-9A-Za-z-])")

REPRESENTATIVE_TTL = timedelta(days=14)
STAFF_TTL = timedelta(hours=48)
FAILED_ATTEMPTS_LIMIT = 5
FAILED_ATTEMPTS_WINDOW = timedelta(minutes=10)


def encode_code(random_bytes: bytes) -> str:
    """Turn 10 random bytes into a 16-character code."""
    if len(random_bytes) != CODE_BYTES:
        raise ValueError("an invite code needs exactly 10 random bytes")
    number = int.from_bytes(random_bytes, "big")
    chars = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def display_code(code: str) -> str:
    """Group a bare code in fours for reading aloud or typing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(typed: str) -> str | None:
    """The canonical bare code for what someone typed, or None when it cannot be a code."""
    squeezed = re.sub(r"[\s\-_]", "", typed).upper().translate(_TYPO_MAP)
    return squeezed if _CODE_RE.match(squeezed) else None


def find_codes(text: str) -> set[str]:
    """Every well-formed code in a text (a pasted or forwarded invite, a group message)."""
    return {c for m in CANDIDATE_RE.finditer(text) if (c := normalise_code(m.group(0)))}


def code_in_message(text: str) -> str | None:
    """The code someone means when they send a whole message to the bot in private.

    The message itself, a deep link's ``start=`` value, or a ``XXXX-XXXX-XXXX-XXXX`` group
    inside a forwarded invite; prose that merely has a 16-letter word is not a code.
    """
    stripped = text.strip()
    if CANDIDATE_RE.fullmatch(stripped):
        return stripped
    link = _START_LINK.search(text)
    if link:
        return link.group(1)
    dashed = _DASHED.search(text)
    return dashed.group(0) if dashed else None


def hash_code(code: str) -> str:
    """What the database keeps instead of the code."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def ttl_for(role: Role) -> timedelta:
    """Representative invites last 14 days; secretariat and observer invites 48 hours."""
    return REPRESENTATIVE_TTL if role is Role.REPRESENTATIVE else STAFF_TTL


class InviteRejection(enum.StrEnum):
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED = "used"
    RATE_LIMITED = "rate_limited"


def check_invite(invite: Invite, now: datetime) -> InviteRejection | None:
    """Why this invite cannot be used now, or None when it can."""
    if invite.revoked_at is not None:
        return InviteRejection.REVOKED
    if invite.uses >= invite.max_uses:
        return InviteRejection.USED
    if now >= invite.expires_at:
        return InviteRejection.EXPIRED
    return None


@dataclass(frozen=True, slots=True)
class AttemptBudget:
    allowed: bool
    retry_after: timedelta


def attempt_budget(failures: list[datetime], now: datetime) -> AttemptBudget:
    """Five failed codes in ten minutes lock the sender out until the oldest one ages out."""
    recent = sorted(t for t in failures if now - t < FAILED_ATTEMPTS_WINDOW)
    if len(recent) < FAILED_ATTEMPTS_LIMIT:
        return AttemptBudget(allowed=True, retry_after=timedelta(0))
    oldest_blocking = recent[len(recent) - FAILED_ATTEMPTS_LIMIT]
    return AttemptBudget(allowed=False, retry_after=oldest_blocking + FAILED_ATTEMPTS_WINDOW - now)
