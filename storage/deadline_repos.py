"""Custom deadlines (/deadlines add) and the units' acknowledgements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import CustomDeadlineRow, DeadlineAckRow


@dataclass(frozen=True, slots=True)
class CustomDeadline:
    id: int
    bloc_id: int
    title: str
    due_at: datetime
    cancelled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Ack:
    unit_id: int
    identity_id: int
    at: datetime


def _deadline(row: CustomDeadlineRow) -> CustomDeadline:
    assert row.id is not None
    return CustomDeadline(
        row.id, row.bloc_id, row.title, row.due_at, row.cancelled_at is not None, row.created_at
    )


class DeadlineRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(
        self, bloc_id: int, title: str, due_at: datetime, *, created_by: int, now: datetime
    ) -> CustomDeadline:
        row = CustomDeadlineRow(
            bloc_id=bloc_id, title=title, due_at=due_at, created_by=created_by, created_at=now
        )
        self.s.add(row)
        await self.s.flush()
        return _deadline(row)

    async def get(self, deadline_id: int, *, lock: bool = False) -> CustomDeadline | None:
        query = select(CustomDeadlineRow).where(CustomDeadlineRow.id == deadline_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        row = (await self.s.exec(query)).first()
        return _deadline(row) if row is not None else None

    async def of_bloc(self, bloc_id: int) -> list[CustomDeadline]:
        """The bloc's custom deadlines not cancelled, earliest first."""
        rows = (
            await self.s.exec(
                select(CustomDeadlineRow)
                .where(
                    CustomDeadlineRow.bloc_id == bloc_id,
                    col(CustomDeadlineRow.cancelled_at).is_(None),
                )
                .order_by(col(CustomDeadlineRow.due_at), col(CustomDeadlineRow.id))
            )
        ).all()
        return [_deadline(r) for r in rows]

    async def cancel(self, deadline_id: int, now: datetime) -> None:
        row = await self.s.get_one(CustomDeadlineRow, deadline_id)
        row.cancelled_at = now

    async def acks(self, deadline_id: int) -> dict[int, Ack]:
        rows = (
            await self.s.exec(
                select(DeadlineAckRow).where(DeadlineAckRow.deadline_id == deadline_id)
            )
        ).all()
        return {r.unit_id: Ack(r.unit_id, r.identity_id, r.acked_at) for r in rows}

    async def acknowledge(
        self, deadline_id: int, unit_id: int, identity_id: int, now: datetime
    ) -> bool:
        """Record the unit's acknowledgement; False when the unit had already acknowledged
        (a colleague's tap, a double tap, two workers)."""
        try:
            async with self.s.begin_nested():
                self.s.add(
                    DeadlineAckRow(
                        deadline_id=deadline_id,
                        unit_id=unit_id,
                        identity_id=identity_id,
                        acked_at=now,
                    )
                )
                await self.s.flush()
        except IntegrityError:
            return False
        return True
