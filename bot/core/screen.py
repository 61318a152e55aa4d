"""The hall screen's link (pure): a read-only capability for the projector of the conference
hall. It carries 256 random bits (only their SHA-256 is stored, as for sign-in links), shows
the bloc's conference and nothing else, and lives until the end of the conference day in the
bloc's timezone, unless the secretariat revokes it first.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

SCREEN_KIND = "screen"  # hash_token's kind: a screen token never matches a sign-in's hash


class ScreenProblem(enum.StrEnum):
    UNKNOWN = "unknown"  # forged, mistyped, or from another installation
    REVOKED = "revoked"
    EXPIRED = "expired"


def screen_expires_at(held_at: datetime, tz: str) -> datetime:
    """The end of the conference day (local midnight after it), in UTC."""
    local = held_at.astimezone(ZoneInfo(tz))
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), ZoneInfo(tz))
    return midnight.astimezone(UTC)


def screen_problem(
    *, found: bool, revoked_at: datetime | None, expires_at: datetime | None, now: datetime
) -> ScreenProblem | None:
    """Why a screen link shows nothing, or None when it shows the conference."""
    if not found or expires_at is None:
        return ScreenProblem.UNKNOWN
    if revoked_at is not None:
        return ScreenProblem.REVOKED
    if now >= expires_at:
        return ScreenProblem.EXPIRED
    return None
