"""Zalo's monthly send quota (`ZALO__MONTHLY_QUOTA`, 3,000 on the free plan; 0: unlimited).

`ZaloQuota.record` is the ZaloClient's `on_sent` hook: every message the bot sends on Zalo —
a direct answer or an outbox delivery, each part of a long text on its own — is counted in
`channel_usage` for its UTC month. When the month's count first reaches 80% the secretariat
of every bloc with a member on Zalo is warned, once per person and month (the warning goes
through the outbox, on each platform the person uses — Zalo too, where it counts and is
never held).

`ZaloQuota.ration` tells the outbox sender how much of the Zalo queue it may claim (policy in
bot/core/sendquota.py): everything below 90%; from 90% only urgent messages (reminders,
ballots opening, results…) while digests, announcements and other notices are held; from
100% nothing. Held messages are never dropped: they stay in the outbox, unclaimed, and go out
when the month changes or the quota setting is raised. Telegram is never rationed. Answers to
someone who writes to the bot are always sent.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.models import Identity, Platform, Role
from bot.core.ports import Clock
from bot.core.sendquota import (
    LOW_AT,
    URGENT_PREFIXES,
    QuotaLevel,
    Usage,
    left,
    level,
    month_of,
    percent,
    warn_due,
)
from bot.render import Renderer
from bot.services.outbox import to_person
from storage.outbox_repos import Queued, Ration
from storage.uow import Database, UnitOfWork

log = logging.getLogger(__name__)

ZALO = Platform.ZALO


class ZaloQuota:
    def __init__(self, db: Database, clock: Clock, renderer: Renderer, *, limit: int) -> None:
        self.db = db
        self.clock = clock
        self.renderer = renderer
        self.limit = limit  # messages a month; 0: unlimited
        self._logged: tuple[str, QuotaLevel] | None = None

    async def record(self, sent: int) -> None:
        """Count messages just sent on Zalo; the first time this month's count reaches 80%,
        warn the secretariat."""
        if sent <= 0:
            return
        now = self.clock.now()
        async with self.db.uow() as uow:
            usage = await uow.usage.add(ZALO, month_of(now), sent)
            await uow.commit()
        if warn_due(usage, self.limit):
            await self._warn(usage, now)

    async def usage(self) -> Usage:
        """This month's count so far."""
        async with self.db.uow() as uow:
            return await uow.usage.get(ZALO, month_of(self.clock.now()))

    async def ration(self) -> Ration | None:
        """How much of the Zalo queue the sender may claim now (None: all of it)."""
        if self.limit <= 0:
            return None
        usage = await self.usage()
        now_level = level(usage.sent, self.limit)
        self._log(usage, now_level)
        room = left(usage.sent, self.limit)
        if now_level is QuotaLevel.LOW:
            return Ration(ZALO, room, URGENT_PREFIXES)
        return Ration(ZALO, room)

    def _log(self, usage: Usage, now_level: QuotaLevel) -> None:
        if now_level not in (QuotaLevel.LOW, QuotaLevel.EXHAUSTED):
            return
        if self._logged == (usage.month, now_level):
            return
        self._logged = (usage.month, now_level)
        log.warning(
            "Zalo quota %s for %s: %d of %d messages sent; %s",
            now_level.value,
            usage.month,
            usage.sent,
            self.limit,
            "only urgent outbox messages are sent"
            if now_level is QuotaLevel.LOW
            else "Zalo outbox messages wait for next month or a higher ZALO__MONTHLY_QUOTA",
        )

    async def _warn(self, usage: Usage, now: datetime) -> None:
        async with self.db.uow() as uow:
            if not await uow.usage.mark_warned(ZALO, usage.month, now):
                return  # another worker warned this month
            rows: list[Queued] = []
            year, month = (int(part) for part in usage.month.split("-"))
            for identity in await _secretariat_of_zalo_blocs(uow):
                text = self.renderer.render(
                    identity.locale,
                    "zalo_quota_warning",
                    sent=usage.sent,
                    quota=self.limit,
                    left=left(usage.sent, self.limit),
                    low=percent(LOW_AT),
                    month=month,
                    year=year,
                )
                rows += await to_person(
                    uow,
                    identity.id,
                    text,
                    key=f"zalo-quota:{usage.month}:{identity.id}",
                    bloc_id=None,
                    now=now,
                )
            await uow.outbox.enqueue(rows, now)
            await uow.commit()
        log.warning("Zalo quota: %d of %d sent in %s", usage.sent, self.limit, usage.month)


async def _secretariat_of_zalo_blocs(uow: UnitOfWork) -> list[Identity]:
    """Each secretariat member, once, of every bloc where someone uses Zalo."""
    found: dict[int, Identity] = {}
    for bloc in await uow.blocs.all():
        members = await uow.identities.members_of_bloc(bloc.id)
        if not any(a.platform is ZALO for _, i in members for a in i.accounts):
            continue
        for membership, identity in members:
            if membership.has(Role.SECRETARIAT):
                found.setdefault(identity.id, identity)
    return [found[i] for i in sorted(found)]
