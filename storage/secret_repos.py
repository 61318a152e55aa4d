"""Secret ballots in storage: the register, the box, sealed drafts, counted receipts, purging.

Nothing here sees a choice in clear: the services seal before writing and unseal after
reading. Purging rewrites the storage the sealed rows lived in (decision 4).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.sealing import draft_version
from bot.core.voting import Choice
from storage.tables import (
    BallotBoxRow,
    BallotRow,
    CountedReceiptRow,
    KeyCheckRow,
    OpenVoteRow,
    SealedDraftRow,
    SecretRegisterRow,
    VoteDraftRow,
)

BALLOT_SECRET_CHECK = "ballot_secret"
AUDIT_KEY_CHECK = "audit_key"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeyCheck:
    value: str
    created_at: datetime


class SecretRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    # --- key checks -----------------------------------------------------------------------

    async def key_check(self, name: str) -> KeyCheck | None:
        row = await self.s.get(KeyCheckRow, name)
        return None if row is None else KeyCheck(row.value, row.created_at)

    async def put_key_check(self, name: str, value: str, now: datetime) -> None:
        """Store a key-check value unless one is there already (the first one stays)."""
        if await self.s.get(KeyCheckRow, name) is not None:
            return
        try:
            async with self.s.begin_nested():
                self.s.add(KeyCheckRow(name=name, value=value, created_at=now))
        except IntegrityError:
            pass  # stored by a concurrent transaction a moment ago

    async def ballot_key_check(self, ballot_id: int) -> str | None:
        row = await self.s.get_one(BallotRow, ballot_id)
        return row.key_check

    async def seal_ballot(self, ballot_id: int, key_check: str, *, publish: bool) -> None:
        """As a secret ballot opens: its key's check value and the receipt policy it keeps."""
        row = await self.s.get_one(BallotRow, ballot_id)
        row.key_check = key_check
        row.publish_receipts = publish

    async def transaction_id(self) -> int | None:
        """PostgreSQL: this transaction's id, so that the purge after it can wait for older
        snapshots; SQLite: None (one writer, and the checkpoint waits for readers)."""
        if self.s.get_bind().dialect.name == "sqlite":
            return None
        conn = await self.s.connection()
        return int((await conn.execute(text("SELECT txid_current()"))).scalar_one())

    # --- secret votes stored in clear before sealing existed -------------------------------

    async def ballots_with_clear_votes(self) -> list[int]:
        """Ballots with open-vote rows (secret ones among them need sealing)."""
        rows = await self.s.exec(select(OpenVoteRow.ballot_id).distinct())
        return sorted(rows.all())

    async def legacy_votes(self, ballot_id: int) -> list[tuple[int, int, datetime, Choice]]:
        """(unit, identity, cast_at, choice) of a secret ballot's votes kept as open votes."""
        rows = await self.s.exec(select(OpenVoteRow).where(OpenVoteRow.ballot_id == ballot_id))
        return [
            (r.unit_id, r.identity_id, r.cast_at, Choice(tuple(json.loads(r.choice)), r.blank))
            for r in rows.all()
        ]

    async def drop_legacy(self, ballot_id: int) -> None:
        await self.s.exec(delete(OpenVoteRow).where(col(OpenVoteRow.ballot_id) == ballot_id))
        await self.s.exec(delete(VoteDraftRow).where(col(VoteDraftRow.ballot_id) == ballot_id))

    # --- the register -----------------------------------------------------------------------

    async def has_voted(self, ballot_id: int, unit_id: int) -> bool:
        found = await self.s.exec(
            select(SecretRegisterRow.id).where(
                SecretRegisterRow.ballot_id == ballot_id, SecretRegisterRow.unit_id == unit_id
            )
        )
        return found.first() is not None

    async def register(
        self, ballot_id: int, unit_id: int, identity_id: int, now: datetime
    ) -> None:
        self.s.add(
            SecretRegisterRow(
                ballot_id=ballot_id, unit_id=unit_id, identity_id=identity_id, cast_at=now
            )
        )
        await self.s.flush()

    async def registered_units(self, ballot_id: int) -> set[int]:
        rows = await self.s.exec(
            select(SecretRegisterRow.unit_id).where(SecretRegisterRow.ballot_id == ballot_id)
        )
        return set(rows.all())

    async def register_count(self, ballot_id: int) -> int:
        result = await self.s.exec(
            select(func.count())
            .select_from(SecretRegisterRow)
            .where(SecretRegisterRow.ballot_id == ballot_id)
        )
        return int(result.one())

    # --- the box ----------------------------------------------------------------------------

    async def drop_in_box(self, ballot_id: int, receipt_mac: str, sealed: bytes) -> None:
        self.s.add(
            BallotBoxRow(
                id=secrets.token_hex(16),
                ballot_id=ballot_id,
                receipt_mac=receipt_mac,
                sealed=sealed,
            )
        )
        await self.s.flush()

    async def box(self, ballot_id: int) -> list[tuple[str, bytes]]:
        rows = await self.s.exec(select(BallotBoxRow).where(BallotBoxRow.ballot_id == ballot_id))
        return [(r.receipt_mac, r.sealed) for r in rows.all()]

    async def in_box(self, ballot_id: int, receipt_mac: str) -> bool:
        found = await self.s.exec(
            select(BallotBoxRow.id).where(
                BallotBoxRow.ballot_id == ballot_id, BallotBoxRow.receipt_mac == receipt_mac
            )
        )
        return found.first() is not None

    async def empty_box(self, ballot_id: int) -> None:
        """Delete the ballot's sealed rows: its box and any drafts never cast."""
        await self.s.exec(delete(BallotBoxRow).where(col(BallotBoxRow.ballot_id) == ballot_id))
        await self.s.exec(delete(SealedDraftRow).where(col(SealedDraftRow.ballot_id) == ballot_id))

    async def put_counted(self, ballot_id: int, receipt_macs: list[str]) -> None:
        """The counted receipt HMACs, inserted in random order (row order says nothing)."""
        shuffled = list(receipt_macs)
        secrets.SystemRandom().shuffle(shuffled)
        for mac in shuffled:
            self.s.add(CountedReceiptRow(ballot_id=ballot_id, receipt_mac=mac))
            await self.s.flush()  # one INSERT each, in the shuffled order

    async def counted(self, ballot_id: int, receipt_mac: str) -> bool:
        found = await self.s.exec(
            select(CountedReceiptRow.ballot_id).where(
                CountedReceiptRow.ballot_id == ballot_id,
                CountedReceiptRow.receipt_mac == receipt_mac,
            )
        )
        return found.first() is not None

    # --- sealed drafts ------------------------------------------------------------------------

    async def draft(
        self, ballot_id: int, unit_id: int, *, lock: bool = False
    ) -> tuple[bytes | None, int]:
        query = select(SealedDraftRow).where(
            SealedDraftRow.ballot_id == ballot_id, SealedDraftRow.unit_id == unit_id
        )
        if lock:
            query = query.with_for_update()
        row = (await self.s.exec(query)).first()
        return (None, 0) if row is None else (row.sealed, row.version)

    async def put_draft(self, ballot_id: int, unit_id: int, sealed: bytes) -> int:
        row = (
            await self.s.exec(
                select(SealedDraftRow)
                .where(SealedDraftRow.ballot_id == ballot_id, SealedDraftRow.unit_id == unit_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            row = SealedDraftRow(ballot_id=ballot_id, unit_id=unit_id, sealed=sealed)
            self.s.add(row)
        row.sealed = sealed
        row.version = draft_version(row.version)  # random: a count of taps would leak parity
        await self.s.flush()
        return row.version

    async def delete_draft(self, ballot_id: int, unit_id: int) -> None:
        await self.s.exec(
            delete(SealedDraftRow).where(
                col(SealedDraftRow.ballot_id) == ballot_id, col(SealedDraftRow.unit_id) == unit_id
            )
        )


# A transaction whose snapshot is older than the delete may still see the deleted rows, and
# VACUUM FULL copies such rows along. backend_xmin is visible whatever role runs the reader
# (pg_dump of a backup user included), unlike xact_start.
_OLDER_READERS = text(
    """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND backend_xmin IS NOT NULL AND age(backend_xmin) >= age(CAST(:deleted AS xid))
    """
)


async def purge_sealed_storage(
    engine: AsyncEngine, *, deleted_xid: int | None = None, wait_seconds: float = 15.0
) -> bool:
    """Rewrite where deleted sealed rows lived, after the transaction that deleted them
    (`deleted_xid`, PostgreSQL; None: anything deleted so far). True when done; False when a
    reader older than the delete, or a lock, kept it from completing (the caller retries).

    SQLite: `secure_delete` (set on every connection) zeroes deleted content in the pages; a
    TRUNCATE checkpoint copies the WAL into the file and empties the WAL, where old page
    images still held the rows (it waits, up to the busy timeout, for readers of the WAL).
    PostgreSQL: once no snapshot older than the delete remains, `VACUUM FULL` writes the box
    and draft tables to new files without the dead rows (own connection, no transaction).
    """
    if engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = await cursor.fetchone()
            return busy is None or not busy[0]
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        if deleted_xid is None:
            deleted_xid = int((await auto.execute(text("SELECT txid_current()"))).scalar_one())
        deleted = deleted_xid % 2**32
        loop = asyncio.get_running_loop()
        give_up = loop.time() + wait_seconds
        while True:
            older = (await auto.execute(_OLDER_READERS, {"deleted": deleted})).scalar_one()
            if older == 0:
                break
            if loop.time() >= give_up:
                return False
            await asyncio.sleep(0.1)
        # A short lock wait: casts on other ballots queue behind VACUUM FULL's lock.
        await auto.execute(text("SET lock_timeout = '2s'"))
        for table in ("ballot_box", "sealed_draft"):
            await auto.execute(text(f"VACUUM FULL {table}"))
        return True
