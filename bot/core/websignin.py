"""The web companion's sign-in rules: one-time links from chat, sessions, and Telegram Mini App
`initData` (pure: no framework; hashlib and hmac are the standard library's).

A sign-in link carries 256 random bits (only their SHA-256 is stored), is valid ten minutes
and once, and names the person who asked for it in chat. A session cookie carries another
256 random bits, also stored only as a hash; it ends after an idle time, at a fixed lifetime,
at sign-out, or when its owner signs out everywhere from chat.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

TOKEN_BYTES = 32  # 256 bits: a link or a cookie cannot be guessed
SIGNIN_TTL = timedelta(minutes=10)
SESSION_IDLE = timedelta(hours=2)  # a conference day has long pauses between ballots
SESSION_LIFETIME = timedelta(hours=24)
TOUCH_EVERY = timedelta(minutes=1)  # the idle clock is written at most once a minute
INIT_DATA_MAX_AGE = timedelta(hours=1)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


# What follows /web (or «web» on Zalo) to end every web session of the person, folded.
SIGN_OUT_WORDS = frozenset(
    {"dang xuat", "thoat", "logout", "log out", "signout", "sign out", "off"}
)


def encode_token(random_bytes: bytes) -> str:
    """43 URL-safe characters for 32 random bytes."""
    if len(random_bytes) != TOKEN_BYTES:
        raise ValueError("a web token needs exactly 32 random bytes")
    return base64.urlsafe_b64encode(random_bytes).decode().rstrip("=")


def well_formed(token: str) -> bool:
    return bool(_TOKEN_RE.match(token))


def hash_token(kind: str, token: str) -> str:
    """What is stored for a link (`kind` "signin") or a session ("session"): never the token."""
    return hashlib.sha256(f"web-{kind}:{token}".encode("ascii", "replace")).hexdigest()


class LinkProblem(enum.StrEnum):
    UNKNOWN = "unknown"  # forged, mistyped, or from another installation
    USED = "used"
    EXPIRED = "expired"


def link_problem(
    *, found: bool, used_at: datetime | None, expires_at: datetime | None, now: datetime
) -> LinkProblem | None:
    """Why a sign-in link cannot be redeemed, or None when it can."""
    if not found or expires_at is None:
        return LinkProblem.UNKNOWN
    if used_at is not None:
        return LinkProblem.USED
    if now >= expires_at:
        return LinkProblem.EXPIRED
    return None


def session_alive(*, last_seen: datetime, created_at: datetime, now: datetime) -> bool:
    """A session ends after SESSION_IDLE without a request, and SESSION_LIFETIME after sign-in."""
    return now - last_seen < SESSION_IDLE and now - created_at < SESSION_LIFETIME


class InitDataProblem(enum.StrEnum):
    MALFORMED = "malformed"
    BAD_HASH = "bad_hash"
    TOO_OLD = "too_old"
    NO_USER = "no_user"


@dataclass(frozen=True, slots=True)
class MiniAppUser:
    telegram_id: str
    auth_date: datetime


def check_init_data(
    init_data: str, bot_token: str, now: datetime
) -> MiniAppUser | InitDataProblem:
    """Telegram Mini App launch data, validated as Telegram documents it: the data-check
    string (every field but `hash`, sorted, `key=value` joined by newlines) signed with
    HMAC-SHA256 under HMAC-SHA256("WebAppData", bot token); `auth_date` at most an hour old."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return InitDataProblem.MALFORMED
    fields = dict(pairs)
    if len(fields) != len(pairs) or "hash" not in fields or "auth_date" not in fields:
        return InitDataProblem.MALFORMED
    given = fields.pop("hash")
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    # Bytes: a forged hash may hold any character (compare_digest refuses non-ASCII text).
    if not hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace")):
        return InitDataProblem.BAD_HASH
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return InitDataProblem.MALFORMED
    if now - auth_date > INIT_DATA_MAX_AGE or auth_date - now > timedelta(minutes=5):
        return InitDataProblem.TOO_OLD
    try:
        user = json.loads(fields.get("user", ""))
        telegram_id = user["id"]
    except (ValueError, TypeError, KeyError):
        return InitDataProblem.NO_USER
    if not isinstance(telegram_id, int) or isinstance(telegram_id, bool):
        return InitDataProblem.NO_USER
    return MiniAppUser(str(telegram_id), auth_date)


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """Launch data as Telegram would sign it (the demo and the tests play Telegram's part)."""
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})
