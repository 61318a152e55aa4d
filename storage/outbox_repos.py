"""The outbox: enqueue once per dedup key, claim with a lease, mark sent / retry / failed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import Platform
from bot.core.ports import Button, OutgoingMessage
from storage.tables import OutboxRow


@dataclass(frozen=True, slots=True)
class Queued:
    """A message for the outbox; `dedup_key` makes planning it twice harmless."""

    dedup_key: str
    message: OutgoingMessage
    not_before: datetime
    bloc_id: int | None = None
    identity_id: int | None = None
    is_group: bool = False


@dataclass(frozen=True, slots=True)
class Ration:
    """How much of one platform's queue may be claimed now (its monthly quota runs low):
    at most `room` rows, and only those whose dedup key starts with one of `only` (None:
    any row; empty: none). Rows not claimed stay queued, untouched, for a later drain."""

    platform: Platform
    room: int
    only: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    dedup_key: str
    message: OutgoingMessage
    attempts: int
    bloc_id: int | None
    identity_id: int | None
    is_group: bool


def _buttons(message: OutgoingMessage) -> str:
    return json.dumps(
        [[[b.text, b.callback_data, b.url] for b in row] for row in message.buttons],
        ensure_ascii=False,
    )


def _message(row: OutboxRow) -> OutgoingMessage:
    rows = json.loads(row.buttons)
    return OutgoingMessage(
        platform=Platform(row.platform),
        chat_id=row.chat_id,
        text=row.text,
        buttons=tuple(tuple(Button(t, c, u) for t, c, u in r) for r in rows),
    )


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def enqueue(self, items: list[Queued], now: datetime) -> int:
        """Insert what is not there yet (by dedup key); returns how many were new."""
        if not items:
            return 0
        values = [
            {
                "dedup_key": q.dedup_key[:200],
                "bloc_id": q.bloc_id,
                "identity_id": q.identity_id,
                "platform": q.message.platform.value,
                "chat_id": q.message.chat_id,
                "is_group": q.is_group,
                "text": q.message.text,
                "buttons": _buttons(q.message),
                "not_before": q.not_before,
                "attempts": 0,
                "last_error": "",
                "created_at": now,
            }
            for q in items
        ]
        dialect = self.s.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        new = 0
        for chunk in range(0, len(values), 500):
            statement = (
                insert(OutboxRow)
                .values(values[chunk : chunk + 500])
                .on_conflict_do_nothing(index_elements=["dedup_key"])
                .returning(OutboxRow.__table__.c.id)  # type: ignore[attr-defined]
            )
            result = await self.s.exec(statement)
            new += len(result.all())
        return new

    async def claim(
        self,
        now: datetime,
        *,
        lease: timedelta,
        limit: int,
        worker: str,
        ration: Ration | None = None,
    ) -> list[Claimed]:
        """Rows due and not held by a live lease, held now for `lease` (PostgreSQL: rows
        another worker is claiming are skipped, not waited for). With a `ration`, its
        platform's rows are claimed only as it allows; the others are left queued."""
        due = (
            select(OutboxRow.id)
            .where(
                col(OutboxRow.sent_at).is_(None),
                col(OutboxRow.failed_at).is_(None),
                col(OutboxRow.not_before) <= now,
                (col(OutboxRow.claimed_until).is_(None)) | (col(OutboxRow.claimed_until) < now),
            )
            .order_by(col(OutboxRow.not_before), col(OutboxRow.id))
            .with_for_update(skip_locked=True)
        )
        if ration is None:
            ids = list((await self.s.exec(due.limit(limit))).all())
        else:
            platform = ration.platform.value
            ids = list(
                (await self.s.exec(due.where(OutboxRow.platform != platform).limit(limit))).all()
            )
            room = min(limit, ration.room)
            if room > 0 and ration.only != ():
                rationed = due.where(OutboxRow.platform == platform)
                if ration.only is not None:
                    rationed = rationed.where(
                        or_(
                            *(
                                col(OutboxRow.dedup_key).startswith(prefix, autoescape=True)
                                for prefix in ration.only
                            )
                        )
                    )
                ids += (await self.s.exec(rationed.limit(room))).all()
        ids = [i for i in ids if i is not None]
        if not ids:
            return []
        await self.s.exec(
            update(OutboxRow)
            .where(col(OutboxRow.id).in_(ids))
            .values(claimed_until=now + lease, claimed_by=worker)
        )
        rows = (
            await self.s.exec(
                select(OutboxRow)
                .where(col(OutboxRow.id).in_(ids))
                .order_by(col(OutboxRow.not_before), col(OutboxRow.id))
                .execution_options(populate_existing=True)
            )
        ).all()
        return [
            Claimed(
                id=r.id or 0,
                dedup_key=r.dedup_key,
                message=_message(r),
                attempts=r.attempts,
                bloc_id=r.bloc_id,
                identity_id=r.identity_id,
                is_group=r.is_group,
            )
            for r in rows
        ]

    async def mark_sent(self, row_id: int, now: datetime) -> None:
        await self.s.exec(
            update(OutboxRow)
            .where(col(OutboxRow.id) == row_id)
            .values(sent_at=now, claimed_until=None, claimed_by=None)
        )

    async def release(
        self, row_id: int, not_before: datetime, *, error: str, count_attempt: bool
    ) -> None:
        """Back to the queue for later (a 429 does not count as an attempt; a 5xx does)."""
        values: dict[str, object] = {
            "not_before": not_before,
            "claimed_until": None,
            "claimed_by": None,
            "last_error": error[:300],
        }
        if count_attempt:
            values["attempts"] = col(OutboxRow.attempts) + 1
        await self.s.exec(update(OutboxRow).where(col(OutboxRow.id) == row_id).values(values))

    async def mark_failed(self, row_id: int, now: datetime, error: str) -> None:
        await self.s.exec(
            update(OutboxRow)
            .where(col(OutboxRow.id) == row_id)
            .values(failed_at=now, claimed_until=None, claimed_by=None, last_error=error[:300])
        )

    async def pending(self) -> int:
        result = await self.s.exec(
            select(func.count())
            .select_from(OutboxRow)
            .where(col(OutboxRow.sent_at).is_(None), col(OutboxRow.failed_at).is_(None))
        )
        return int(result.one())

    async def exists_prefix(self, prefix: str) -> bool:
        """Whether a producer already queued rows under this key prefix."""
        found = await self.s.exec(
            select(OutboxRow.id).where(
                col(OutboxRow.dedup_key).startswith(prefix, autoescape=True)
            )
        )
        return found.first() is not None

    async def exists(self, dedup_key: str) -> bool:
        found = await self.s.exec(select(OutboxRow.id).where(OutboxRow.dedup_key == dedup_key))
        return found.first() is not None
