"""A chat platform's monthly send quota (Zalo: 3,000 messages a month on the free plan).

Every message the bot sends on the platform counts, in the UTC month it was sent. The policy,
in exact integer arithmetic (never floats):

- below 80% nothing changes;
- at 80% the secretariat is warned, once a month (`warn_due`);
- from 90% (`LOW_AT`) the quota is *low*: only urgent outbox messages (`is_urgent`: deadline
  reminders, ballots opening, results…) are still sent; digests, announcements and every
  other message are held;
- at 100% it is *exhausted*: no outbox message is sent on the platform at all (the platform
  would refuse, or bill, them).

Held messages are never dropped: they stay queued and go out when the month changes or the
quota is raised. Direct answers to someone who wrote to the bot are always sent (and counted).
A quota of 0 means unlimited.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

WARN_AT = (4, 5)  # 80%: the secretariat is told, once a month
LOW_AT = (9, 10)  # 90%: only urgent messages are still sent

# Outbox dedup-key prefixes (their producers build them) of the messages still sent while the
# quota is low: they ask a unit to act before a time, or tell the outcome of a vote, or the
# secretariat must act now. A producer not listed here is held while the quota is low — held,
# not lost. A use case's notices carry their template: `notice:{template}:{event}:{identity}`.
URGENT_PREFIXES: tuple[str, ...] = (
    "remind:",  # a deadline reminder
    "deadline:",  # a deadline just added by the secretariat
    "opened:",  # a ballot opened: the group told (Telegram, never rationed)
    "autoopened:",  # the secretariat told a scheduled ballot opened
    "notice:ballot_opened_notice:",  # a ballot opened (by hand or at its time): vote now
    "notice:ballot_extended_notice:",  # its closing time moved
    "notice:ballot_cancelled_notice:",  # no vote after all
    "result:",  # a ballot's result in the group (Telegram, never rationed)
    "notice:ballot_result:",  # a ballot's result, to the secretariat
    "notice:period_opened_notice:",  # a report is due
    "notice:period_extended_notice:",  # its deadline moved
    "notice:report_returned_notice:",  # a report to submit again before a date
    "covenant:",  # a covenant to sign before a date
    "autowait:",  # a scheduled ballot could not open: the secretariat decides
    "automissed:",  # a scheduled ballot missed its window
    "unreachable:",  # a member blocked the bot: the secretariat calls them
    "zalo-quota:",  # this warning itself
)
# Held while the quota is low (named in the warning): `digest:`, `announce:`, and the rest —
# joins, colleagues' votes and reports, new-year notices.


class QuotaLevel(enum.StrEnum):
    UNLIMITED = "unlimited"  # quota 0
    OPEN = "open"  # below 90%: everything is sent
    LOW = "low"  # 90% or more: only urgent messages
    EXHAUSTED = "exhausted"  # 100%: nothing more from the outbox this month


@dataclass(frozen=True, slots=True)
class Usage:
    """Messages sent on a platform in a month, and when the secretariat was warned."""

    month: str  # YYYY-MM, UTC
    sent: int
    warned_at: datetime | None = None


def month_of(now: datetime) -> str:
    """The quota's month of a moment: YYYY-MM in UTC."""
    return now.astimezone(UTC).strftime("%Y-%m")


def _at_least(sent: int, quota: int, share: tuple[int, int]) -> bool:
    numerator, denominator = share
    return sent * denominator >= quota * numerator


def level(sent: int, quota: int) -> QuotaLevel:
    """How far into the quota `sent` messages are (quota 0: unlimited)."""
    if quota <= 0:
        return QuotaLevel.UNLIMITED
    if sent >= quota:
        return QuotaLevel.EXHAUSTED
    if _at_least(sent, quota, LOW_AT):
        return QuotaLevel.LOW
    return QuotaLevel.OPEN


def warn_due(usage: Usage, quota: int) -> bool:
    """The secretariat is warned once a month, when the count first reaches 80%."""
    return quota > 0 and usage.warned_at is None and _at_least(usage.sent, quota, WARN_AT)


def left(sent: int, quota: int) -> int:
    """Messages still allowed this month (never negative; meaningless when unlimited)."""
    return max(0, quota - sent)


def is_urgent(dedup_key: str) -> bool:
    """Whether an outbox message still goes out while the quota is low."""
    return dedup_key.startswith(URGENT_PREFIXES)


def percent(share: tuple[int, int]) -> int:
    """A threshold as the warning names it (80, 90)."""
    return share[0] * 100 // share[1]
