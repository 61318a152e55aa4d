"""Deadlines and when to remind: offsets per kind, quiet hours, the daily digest.

Pure functions of `now` (UTC-aware), the deadline and the bloc's timezone. The planner asks
"which reminder of this deadline is due now?": the one whose (quiet-hour shifted) time came
last; reminders missed while the bot was down collapse into that one, and none is due once
the deadline has passed.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class DeadlineKind(enum.StrEnum):
    REPORT = "report"  # a report period's deadline: units that have not submitted
    BALLOT = "ballot"  # an open ballot's closing time: units that have not voted
    COVENANT = "covenant"  # signing next year's covenant: units that have not signed
    CUSTOM = "custom"  # a deadline the secretariat adds: units that have not acknowledged


DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)

# domain.md defaults: reports and covenant 7 d, 3 d, 1 d, 2 h; ballots 10 min before close;
# custom deadlines 1 d, 2 h.
DEFAULT_OFFSETS: dict[DeadlineKind, tuple[timedelta, ...]] = {
    DeadlineKind.REPORT: (7 * DAY, 3 * DAY, DAY, 2 * HOUR),
    DeadlineKind.COVENANT: (7 * DAY, 3 * DAY, DAY, 2 * HOUR),
    DeadlineKind.BALLOT: (10 * MINUTE,),
    DeadlineKind.CUSTOM: (DAY, 2 * HOUR),
}


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours when no reminder is sent (default 21:00–07:00); start == end: none."""

    start: time = time(21, 0)
    end: time = time(7, 0)

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


DEFAULT_QUIET = QuietHours()
DIGEST_AT = time(8, 0)


@dataclass(frozen=True, slots=True)
class Deadline:
    """Something units must do by `due_at`; `key` is stable ("period:12", "ballot:5")."""

    key: str
    bloc_id: int
    kind: DeadlineKind
    title: str
    due_at: datetime
    since: datetime | None = None  # when it was set: reminders due before then are not sent


def _quiet_bounds(local: datetime, quiet: QuietHours) -> tuple[datetime, datetime]:
    """Start and end (local, aware) of the quiet period containing `local`."""
    tz = local.tzinfo
    day = local.date()
    start_today = datetime.combine(day, quiet.start, tz)
    if quiet.start < quiet.end or local.time() >= quiet.start:
        start = start_today
    else:  # after midnight: the period began yesterday evening
        start = datetime.combine(day - DAY, quiet.start, tz)
    end = datetime.combine(start.date(), quiet.end, tz)
    if end <= start:
        end += DAY
    return start, end


def shift_for_quiet(fire_at: datetime, due_at: datetime, tz: str, quiet: QuietHours) -> datetime:
    """A reminder falling inside quiet hours goes at their end, unless that is at or after
    the deadline: then at their start (earlier, so that it still arrives in time)."""
    zone = ZoneInfo(tz)
    local = fire_at.astimezone(zone)
    if not quiet.contains(local.timetz().replace(tzinfo=None)):
        return fire_at
    start, end = _quiet_bounds(local, quiet)
    chosen = end if end < due_at.astimezone(zone) else start
    return chosen.astimezone(fire_at.tzinfo)


def fire_times(
    due_at: datetime, offsets: tuple[timedelta, ...], tz: str, quiet: QuietHours
) -> dict[timedelta, datetime]:
    """When each offset's reminder goes, quiet hours applied."""
    return {o: shift_for_quiet(due_at - o, due_at, tz, quiet) for o in offsets}


def reminder_due(
    now: datetime,
    due_at: datetime,
    offsets: tuple[timedelta, ...],
    tz: str,
    quiet: QuietHours = DEFAULT_QUIET,
    since: datetime | None = None,
) -> timedelta | None:
    """The offset whose reminder is due at `now`: of those whose time has come, the one that
    came last (earlier ones missed while down collapse into it); None once the deadline has
    passed, before the first reminder, or while quiet hours hold it back. Reminders whose
    time came before `since` (the deadline was set later: a period opened three days before
    it, a ballot opened for five minutes) are not sent — the announcement said it all."""
    if now >= due_at or shift_for_quiet(now, due_at, tz, quiet) > now:
        return None  # passed, or now is inside quiet hours (a missed reminder waits too)
    came = [
        (at, o)
        for o, at in fire_times(due_at, offsets, tz, quiet).items()
        if at <= now and (since is None or at > since)
    ]
    if not came:
        return None
    return max(came, key=lambda pair: (pair[0], -pair[1]))[1]


def digest_due(
    now: datetime, tz: str, at: time = DIGEST_AT, quiet: QuietHours = DEFAULT_QUIET
) -> date | None:
    """The local date whose daily digest is due (from `at` on, outside quiet hours)."""
    local = now.astimezone(ZoneInfo(tz))
    if local.time() < at or quiet.contains(local.time()):
        return None
    return local.date()


def remaining(now: datetime, due_at: datetime) -> tuple[int, int, int]:
    """Days, hours and minutes left, rounded to the nearest as people say it (zeros when
    passed): from a day on to the hour ("còn 3 ngày", "còn 1 ngày 6 giờ"), from an hour on to
    five minutes ("còn 2 giờ" for the 2-hour reminder sent 30 s late, "còn 1 giờ 30 phút"),
    below an hour to the minute ("còn 45 phút"). (0, 0, 0) with time left means under a minute.
    """
    seconds = max(int((due_at - now).total_seconds()), 0)
    if seconds >= 24 * 3600 - 1800:
        step = 3600
    elif seconds >= 3600 - 150:
        step = 300
    else:
        step = 60
    minutes = (seconds + step // 2) // step * step // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return days, hours, minutes


def parse_offsets(text: str) -> tuple[timedelta, ...] | None:
    """ "7d, 3d, 1d, 2h, 30m" (also "ngày/giờ/phút") -> offsets, largest first; None when bad."""
    units = {"d": DAY, "ngay": DAY, "ngày": DAY, "h": HOUR, "g": HOUR, "gio": HOUR, "giờ": HOUR}
    units |= {"m": MINUTE, "p": MINUTE, "phut": MINUTE, "phút": MINUTE}
    found: set[timedelta] = set()
    for part in text.replace(";", ",").split(","):
        word = part.strip().casefold().replace(" ", "")
        if not word:
            continue
        digits = "".join(ch for ch in word if ch.isdigit())
        unit = word[len(digits) :]
        if not digits or word[: len(digits)] != digits or unit not in units:
            return None
        amount = int(digits)
        if not 0 < amount <= 60 * 24 * 90:
            return None
        found.add(amount * units[unit])
    if not found or len(found) > 8 or max(found) > 90 * DAY:
        return None
    return tuple(sorted(found, reverse=True))


@dataclass(frozen=True, slots=True)
class ReminderSettings:
    """A bloc's reminder offsets per kind and its quiet hours (defaults where not changed)."""

    offsets: tuple[tuple[DeadlineKind, tuple[timedelta, ...]], ...] = ()
    quiet: QuietHours = DEFAULT_QUIET

    def offsets_for(self, kind: DeadlineKind) -> tuple[timedelta, ...]:
        return dict(self.offsets).get(kind, DEFAULT_OFFSETS[kind])

    def with_offsets(
        self, kind: DeadlineKind, offsets: tuple[timedelta, ...] | None
    ) -> ReminderSettings:
        """Offsets for one kind (None: back to the default)."""
        kept = tuple((k, o) for k, o in self.offsets if k is not kind)
        if offsets is not None and offsets != DEFAULT_OFFSETS[kind]:
            kept += ((kind, offsets),)
        return ReminderSettings(tuple(sorted(kept)), self.quiet)

    def to_json(self) -> str | None:
        """Stored form; None when everything is the default."""
        if not self.offsets and self.quiet == DEFAULT_QUIET:
            return None
        return json.dumps(
            {
                "offsets": {k.value: [int(o.total_seconds()) for o in v] for k, v in self.offsets},
                "quiet": [self.quiet.start.strftime("%H:%M"), self.quiet.end.strftime("%H:%M")],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> ReminderSettings:
        if not text:
            return DEFAULT_SETTINGS
        data = json.loads(text)
        offsets = tuple(
            sorted(
                (DeadlineKind(k), tuple(timedelta(seconds=s) for s in v))
                for k, v in data.get("offsets", {}).items()
            )
        )
        start, end = data.get("quiet", ["21:00", "07:00"])
        return cls(offsets, QuietHours(time.fromisoformat(start), time.fromisoformat(end)))


DEFAULT_SETTINGS = ReminderSettings()


def parse_quiet(text: str) -> QuietHours | None:
    """ "21:00-07:00" (also "21h-7h", "21:00 – 07:00"); "0" / "tắt" / "off": no quiet hours."""
    word = text.strip().casefold().replace(" ", "")
    if word in {"off", "tắt", "tat", "0", "không", "khong"}:
        return QuietHours(time(0, 0), time(0, 0))
    parts = word.replace("–", "-").replace("—", "-").split("-")
    if len(parts) != 2:
        return None
    bounds = []
    for part in parts:
        hours, _, minutes = part.replace("h", ":").replace("g", ":").partition(":")
        if not hours.isdigit() or (minutes and not minutes.isdigit()):
            return None
        h, m = int(hours), int(minutes or 0)
        if not (0 <= h <= 23 and 0 <= m <= 59):
            return None
        bounds.append(time(h, m))
    if bounds[0] == bounds[1]:
        return None
    return QuietHours(bounds[0], bounds[1])
