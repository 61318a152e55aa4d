"""Next year's covenant and the units' signatures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import CovenantRow, CovenantSignatureRow


@dataclass(frozen=True, slots=True)
class Covenant:
    id: int
    bloc_id: int
    year: int
    text: str
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Signature:
    unit_id: int
    identity_id: int
    text_sha256: str
    at: datetime


def _covenant(row: CovenantRow) -> Covenant:
    assert row.id is not None
    return Covenant(
        row.id, row.bloc_id, row.year, row.text, row.due_at, row.created_at, row.updated_at
    )


class CovenantRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def of_year(self, bloc_id: int, year: int, *, lock: bool = False) -> Covenant | None:
        query = select(CovenantRow).where(CovenantRow.bloc_id == bloc_id, CovenantRow.year == year)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        row = (await self.s.exec(query)).first()
        return _covenant(row) if row is not None else None

    async def get(self, covenant_id: int) -> Covenant | None:
        row = await self.s.get(CovenantRow, covenant_id)
        return _covenant(row) if row is not None else None

    async def put(
        self,
        bloc_id: int,
        year: int,
        text: str,
        due_at: datetime | None,
        *,
        by: int,
        now: datetime,
    ) -> Covenant:
        """Create the year's covenant or replace its text and date (before anyone signed)."""
        row = (
            await self.s.exec(
                select(CovenantRow).where(CovenantRow.bloc_id == bloc_id, CovenantRow.year == year)
            )
        ).first()
        if row is None:
            row = CovenantRow(
                bloc_id=bloc_id,
                year=year,
                text=text,
                due_at=due_at,
                created_by=by,
                created_at=now,
                updated_at=now,
            )
            self.s.add(row)
        else:
            row.text, row.due_at, row.updated_at = text, due_at, now
        await self.s.flush()
        return _covenant(row)

    async def signatures(self, covenant_id: int) -> dict[int, Signature]:
        rows = (
            await self.s.exec(
                select(CovenantSignatureRow)
                .where(CovenantSignatureRow.covenant_id == covenant_id)
                .order_by(col(CovenantSignatureRow.signed_at), col(CovenantSignatureRow.id))
            )
        ).all()
        return {
            r.unit_id: Signature(r.unit_id, r.identity_id, r.text_sha256, r.signed_at)
            for r in rows
        }

    async def sign(
        self, covenant_id: int, unit_id: int, identity_id: int, text_sha256: str, now: datetime
    ) -> bool:
        """Record the unit's signature; False when the unit had signed already (final)."""
        try:
            async with self.s.begin_nested():
                self.s.add(
                    CovenantSignatureRow(
                        covenant_id=covenant_id,
                        unit_id=unit_id,
                        identity_id=identity_id,
                        text_sha256=text_sha256,
                        signed_at=now,
                    )
                )
                await self.s.flush()
        except IntegrityError:
            return False
        return True
