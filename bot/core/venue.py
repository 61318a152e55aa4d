"""Check-in at the venue: the six-digit code shown on the hall screen (pure: hmac only).

A representative checks the unit in with the code on the hall's screen, so presence — and with
it the two-thirds quorum — cannot be declared from outside the hall. The code changes every
minute; the previous minute's is still accepted (someone typing as it turns over). It is an
HMAC of the conference and the minute under a key only the server holds: nobody can compute
the next one, and every worker computes the same without sharing state.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

from bot.core.text import fold_diacritics

CODE_DIGITS = 6
CODE_PERIOD = timedelta(minutes=1)
_CODE_RE = re.compile(r"^\d{6}$")
_KEY_LABEL = b"thidua venue check-in code v1"


class VenueSetting(enum.Enum):
    """The secretariat's choice (`/conference checkin on|off|auto`)."""

    ON = True
    OFF = False
    AUTO = None  # on when the conference has a place

    @property
    def stored(self) -> bool | None:
        value: bool | None = self.value
        return value


# The sub-command's words and each setting's, folded (no diacritics, lower case).
CHECKIN_WORDS = frozenset({"checkin", "check-in", "diemdanh", "diem danh"})
_SETTING_WORDS = {
    "on": VenueSetting.ON, "bat": VenueSetting.ON, "co": VenueSetting.ON,
    "off": VenueSetting.OFF, "tat": VenueSetting.OFF, "khong": VenueSetting.OFF,
    "auto": VenueSetting.AUTO, "tu dong": VenueSetting.AUTO, "mac dinh": VenueSetting.AUTO,
}  # fmt: skip


def checkin_setting_words(args: str) -> str | None:
    """`/conference checkin on`'s words after the sub-command (any spelling of it: `checkin`,
    `điểm danh`), or None when the arguments are not that sub-command."""
    words = args.split()
    folded = fold_diacritics(args).casefold().split()
    for size in (2, 1):
        if len(folded) >= size and " ".join(folded[:size]) in CHECKIN_WORDS:
            return " ".join(words[size:])
    return None


def parse_venue_setting(text: str) -> VenueSetting | None:
    """`on` / `bật`, `off` / `tắt`, `auto` / `tự động`; None for anything else."""
    return _SETTING_WORDS.get(" ".join(fold_diacritics(text).casefold().split()))


def venue_checkin_on(setting: bool | None, place: str) -> bool:
    """Whether check-in needs the hall screen's code: as the secretariat set it, otherwise on
    when the conference has a place (a conference held somewhere has a hall to check in at)."""
    return setting if setting is not None else bool(place.strip())


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

