"""Unit of work: one transaction per use case; services commit, repositories never do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.covenant_repos import CovenantRepo
from storage.db import READ_ONLY, session_factory
from storage.deadline_repos import DeadlineRepo
from storage.outbox_repos import OutboxRepo
from storage.report_repos import ReportRepo, ScoringRepo
from storage.repositories import AuditRepo, BlocRepo, IdentityRepo, InviteRepo
from storage.secret_repos import SecretRepo, purge_sealed_storage
from storage.usage_repos import UsageRepo
from storage.vote_repos import VoteRepo
from storage.web_repos import WebRepo

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
        self.outbox = OutboxRepo(session)
        self.deadlines = DeadlineRepo(session)
        self.covenants = CovenantRepo(session)
        self.usage = UsageRepo(session)
        self.web = WebRepo(session)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class Database:
    """Hands out units of work over one engine."""

    def __init__(self, engine: AsyncEngine, *, bind: AsyncConnection | None = None) -> None:
        self.engine = engine
        self.bound = bind is not None
        self._purge: asyncio.Task[None] | None = None
        self._purge_xid: int | None = None
        self._purge_again = False
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

    async def ping(self) -> None:
        """The database answers (for /healthz); raises when it does not."""
        async with self.uow() as uow:
            connection = await uow.session.connection()
            await connection.execute(text("SELECT 1"))

    @asynccontextmanager
    async def uow(self, *, read_only: bool = False) -> AsyncIterator[UnitOfWork]:
        """A transaction that is rolled back unless the service commits it. `read_only`: the
        use case only reads (on SQLite it then does not take the write lock)."""
        async with self._sessions() as session:
            if read_only and not self.bound:
                await session.connection(execution_options={READ_ONLY: True})
            uow = UnitOfWork(session)
            try:
                yield uow
            finally:
                if session.in_transaction():
                    await session.rollback()

    def purge_sealed(self, deleted_xid: int | None = None) -> None:
        """Rewrite, in the background, the storage of sealed rows deleted by a committed
        transaction (`deleted_xid` on PostgreSQL), retrying until no older reader or lock is
        in the way. The count does not wait for it; `purged()` does (tests, shutdown). A
        database bound to a test's outer transaction has nothing committed to rewrite."""
        if self.bound:
            return
        if deleted_xid is not None:
            self._purge_xid = max(self._purge_xid or 0, deleted_xid)
        self._purge_again = True
        if self._purge is None or self._purge.done():
            self._purge = asyncio.create_task(self._purge_loop())

    async def purged(self) -> None:
        """Wait for the background purge, if one is running."""
        if self._purge is not None:
            await asyncio.shield(self._purge)

    async def _purge_loop(self) -> None:
        delays = iter((0.5, 2, 5, 15, 60, 300, 900, 3600))
        while self._purge_again:
            self._purge_again = False
            try:
                done = await purge_sealed_storage(self.engine, deleted_xid=self._purge_xid)
            except Exception as exc:
                log.warning(
                    "rewriting the storage of counted ballots failed: %s", type(exc).__name__
                )
                done = False
            if done:
                continue
            delay = next(delays, None)
            if delay is None:
                log.warning("purge of counted ballots incomplete: it runs again at the next count")
                return
            log.info("a reader older than a secret count delays its purge: retrying")
            self._purge_again = True
            await asyncio.sleep(delay)

    async def dispose(self) -> None:
        if self._purge is not None and not self._purge.done():
            self._purge.cancel()
            with suppress(asyncio.CancelledError):
                await self._purge
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
