"""Audit log use cases: append inside a use case's transaction; verify every chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.audit import GENESIS, ChainBreak, verify_chain
from bot.services.app import Services
from storage.uow import Database, UnitOfWork


async def record(
    uow: UnitOfWork,
    services: Services,
    *,
    bloc_id: int,
    actor_identity_id: int | None,
    action: str,
    unit_id: int | None = None,
    **details: Any,
) -> str:
    """Append one audit row for a change of state (never a secret choice)."""
    return await uow.audit.append(
        services.audit_key,
        bloc_id=bloc_id,
        at=services.clock.now(),
        actor_identity_id=actor_identity_id,
        unit_id=unit_id,
        action=action,
        details=details,
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    bloc_id: int
    rows: int
    head: str
    broken: ChainBreak | None


async def verify_all(db: Database, key: bytes) -> list[ChainReport]:
    """Check every bloc's chain with the key; a row altered or re-chained without it fails."""
    reports: list[ChainReport] = []
    async with db.uow() as uow:
        for bloc_id in await uow.audit.bloc_ids():
            rows = await uow.audit.chain(bloc_id)
            seq, head = await uow.audit.head(bloc_id)
            broken = verify_chain(key, rows)
            last_seq, last_hash = (rows[-1][0].seq, rows[-1][2]) if rows else (0, GENESIS)
            if broken is None and (last_seq != seq or last_hash != head):
                broken = ChainBreak(bloc_id, last_seq, "head")
            reports.append(ChainReport(bloc_id, len(rows), head, broken))
    return reports
