"""Check-in at the venue: the six-digit code shown on the hall screen (pure: hmac only).

A representative checks the unit in with the code on the hall's screen, so presence — and with
it the two-thirds quorum — cannot be declared from outside the hall. The code changes every
minute; the previous minute's is still accepted (someone typing as it turns over). It is an
HMAC of the conference and the minute under a key only the server holds: nobody can compute
the next one, and every worker computes the same without sharing state.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Protocol

CODE_DIGITS = 6
CODE_PERIOD = timedelta(minutes=1)
_CODE_RE = re.compile(r"^\d{6}$")
_KEY_LABEL = b"thidua venue check-in code v1"


def venue_key(server_secret: bytes) -> bytes:
    """The codes' own key, derived from a server secret (never the secret itself)."""
    return hmac.new(server_secret, _KEY_LABEL, hashlib.sha256).digest()


def _step(at: datetime) -> int:
    return int(at.astimezone(UTC).timestamp() // CODE_PERIOD.total_seconds())


def _code(key: bytes, conference_id: int, step: int) -> str:
    digest = hmac.new(key, f"{conference_id}:{step}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS
    return f"{number:0{CODE_DIGITS}d}"


def venue_code(key: bytes, conference_id: int, at: datetime) -> str:
    """The code shown at `at` for this conference."""
    return _code(key, conference_id, _step(at))


def code_valid_until(at: datetime) -> datetime:
    """When the code shown at `at` stops being the current one (it is accepted a minute
    longer)."""
    return datetime.fromtimestamp((_step(at) + 1) * CODE_PERIOD.total_seconds(), UTC)


def normalise_venue_code(text: str) -> str:
    """What a person typed, as a code: digits only (spaces and dashes from reading it off a
    screen in groups are dropped); '' when there is nothing that could be one."""
    digits = "".join(ch for ch in text if ch.isdigit() and ch.isascii())
    return digits if _CODE_RE.match(digits) else ""


def venue_code_ok(key: bytes, conference_id: int, typed: str, now: datetime) -> bool:
    """The current minute's code or the previous one's."""
    code = normalise_venue_code(typed)
    if not code:
        return False
    step = _step(now)
    return any(hmac.compare_digest(code, _code(key, conference_id, s)) for s in (step, step - 1))


class VenueSetting(Protocol):
    """What decides whether check-in needs the hall's code (a conference, as stored)."""

    @property
    def venue_checkin(self) -> bool | None: ...

    @property
    def place(self) -> str: ...


def venue_checkin_on(conference: VenueSetting) -> bool:
    """Check-in needs the code on the hall screen: as the secretariat set it, or (not set)
    whenever the conference has a place to be in."""
    if conference.venue_checkin is not None:
        return conference.venue_checkin
    return bool(conference.place.strip())
