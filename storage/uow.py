"""Unit of work: one transaction per use case; services commit, repositories never do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session_factory
from storage.report_repos import ReportRepo, ScoringRepo
from storage.repositories import AuditRepo, BlocRepo, IdentityRepo, InviteRepo
from storage.vote_repos import VoteRepo


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

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class Database:
    """Hands out units of work over one engine."""

    def __init__(self, engine: AsyncEngine, *, bind: AsyncConnection | None = None) -> None:
        self.engine = engine
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

    async def dispose(self) -> None:
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
