"""Engine factory: SQLite (embedded default) or PostgreSQL, same code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./data/thidua.db"


def normalise_url(url: str) -> str:
    """Accept the usual spellings (postgres://, postgresql://) and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        url = "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def create_engine(
    url: str, *, echo: bool = False, application_name: str | None = None
) -> AsyncEngine:
    """An async engine; on SQLite every transaction takes the write lock up front.

    SQLite has one writer: starting with BEGIN IMMEDIATE makes read-then-write use cases
    (unique checks, audit chain appends) serialise instead of failing with SQLITE_BUSY.
    """
    url = normalise_url(url)
    if not is_sqlite(url):
        # Sessions carry the process's name (pg_stat_activity), so an operator — or a fault
        # test — can tell the bot's connections from anyone else's.
        named = application_name and "+asyncpg" in url
        args = {"server_settings": {"application_name": application_name}} if named else {}
        return create_async_engine(url, echo=echo, pool_pre_ping=True, connect_args=args)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
    _sqlite_pragmas(engine)
    return engine


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only unit of work (READ_ONLY) need not wait for the writer: WAL readers
        # see the last commit while a write goes on.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


READ_ONLY = "thidua_read_only"  # execution option: this transaction only reads


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
