"""Messages sent per platform and month (`channel_usage`): an atomic increment, a read, and the
once-a-month mark that the secretariat was warned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import Platform
from bot.core.sendquota import Usage
from storage.tables import ChannelUsageRow


class UsageRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, platform: Platform, month: str, sent: int) -> Usage:
        """Count `sent` more messages (one statement, INSERT … ON CONFLICT DO UPDATE: workers
        counting at once never lose one); returns the month's usage after it."""
        dialect = self.s.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = ChannelUsageRow.__table__  # type: ignore[attr-defined]
        values = insert(ChannelUsageRow).values(platform=platform.value, month=month, sent=sent)
        statement = values.on_conflict_do_update(
            index_elements=["platform", "month"],
            set_={"sent": table.c.sent + values.excluded.sent},
        ).returning(table.c.sent, table.c.warned_at)
        total, warned_at = (await self.s.exec(statement)).one()
        return Usage(month, int(total), warned_at)

    async def get(self, platform: Platform, month: str) -> Usage:
        row = await self.s.get(ChannelUsageRow, (platform.value, month))
        return Usage(month, 0) if row is None else Usage(month, row.sent, row.warned_at)

    async def mark_warned(self, platform: Platform, month: str, now: datetime) -> bool:
        """Record that the secretariat was warned this month; False when another worker
        already did (the row is locked until the caller commits, so one of them wins)."""
        done = await self.s.exec(
            update(ChannelUsageRow)
            .where(
                col(ChannelUsageRow.platform) == platform.value,
                col(ChannelUsageRow.month) == month,
                col(ChannelUsageRow.warned_at).is_(None),
            )
            .values(warned_at=now)
            .returning(col(ChannelUsageRow.month))
        )
        return done.first() is not None
