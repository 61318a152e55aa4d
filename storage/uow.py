"""Unit of work: one transaction per use case; services commit, repositories never do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from types import TracebackType

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session_factory
from storage.report_repos import ReportRepo, ScoringRepo
from storage.repositories import AuditRepo, BlocRepo, IdentityRepo, InviteRepo
from storage.secret_repos import SecretRepo, purge_sealed_storage
from storage.vote_repos import VoteRepo

log = logging.getLogger(__name__)


class UnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.identities = IdentityRepo(session)
        self.blocs = BlocRepo(session)
        self.invites = InviteRepo(session)
        self.audit = AuditRepo(session)
        self.tables = ScoringRepo(session)
        self.reports = ReportRepo(session)
        self.votes = VoteRepo(session)
        self.secret = SecretRepo(session)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class Database:
    """Hands out units of work over one engine."""

    def __init__(self, engine: AsyncEngine, *, bind: AsyncConnection | None = None) -> None:
        self.engine = engine
        self.bound = bind is not None
        self._retry: asyncio.Task[None] | None = None
        if bind is None:
            self._sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        else:
            # Tests: every unit of work runs in a savepoint of one outer transaction
            # that the test rolls back, so "commit" inside services is real but undone.
            self._sessions = async_sessionmaker(
                bind=bind,
                class_=AsyncSession,
                expire_on_commit=False,
                join_transaction_mode="create_savepoint",
            )

    @asynccontextmanager
    async def uow(self) -> AsyncIterator[UnitOfWork]:
        """A transaction that is rolled back unless the service commits it."""
        async with self._sessions() as session:
            uow = UnitOfWork(session)
            try:
                yield uow
            finally:
                if session.in_transaction():
                    await session.rollback()

    async def purge_sealed(self) -> bool:
        """Rewrite the storage of deleted sealed rows (after the deleting commit). When an
        older reader keeps it from completing, it is retried in the background (and at the
        next count, and at start). A database bound to a test's outer transaction has
        nothing committed to rewrite."""
        if self.bound:
            return True
        try:
            if await purge_sealed_storage(self.engine):
                return True
        except DBAPIError as exc:
            log.warning("rewriting the storage of counted ballots failed: %s", type(exc).__name__)
        log.warning("a reader older than a secret count delayed its purge: retrying")
        if self._retry is None or self._retry.done():
            self._retry = asyncio.create_task(self._retry_purge())
        return False

    async def _retry_purge(self) -> None:
        for delay in (5, 15, 60, 300, 900, 3600):
            await asyncio.sleep(delay)
            with suppress(DBAPIError):
                if await purge_sealed_storage(self.engine):
                    log.info("purge of counted ballots completed")
                    return
        log.warning("purge of counted ballots still incomplete: it runs again at the next count")

    async def dispose(self) -> None:
        if self._retry is not None and not self._retry.done():
            self._retry.cancel()
            with suppress(asyncio.CancelledError):
                await self._retry
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.dispose()
