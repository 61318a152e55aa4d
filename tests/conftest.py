"""Shared fixtures: databases on SQLite and PostgreSQL, services, a fake clock."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.models import Account, Platform
from bot.fakes.clock import FakeClock
from bot.render import Renderer
from bot.services.app import Services
from storage.db import create_engine
from storage.files import FileStore
from storage.migrate import migrate
from storage.uow import Database

# Tests run in parallel (pytest-xdist, `-n auto`). Each worker has its own PostgreSQL
# database and Redis database: advisory locks and vacuum horizons are per database, and a
# worker flushes only its own Redis. Worker 0 (or a run without xdist) uses `test` itself.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
BASE_PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PG_URL = (
    BASE_PG_URL
    if _WORKER == 0
    else make_url(BASE_PG_URL)
    .set(database=f"{make_url(BASE_PG_URL).database}_gw{_WORKER}")
    .render_as_string(hide_password=False)
)
# Databases are created from the maintenance database, never from a worker's own: a session
# there would hold back that worker's vacuum horizon (the secret-ballot purge tests see it).
ADMIN_PG_URL = make_url(BASE_PG_URL).set(database="postgres").render_as_string(hide_password=False)
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER % 8}")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
START = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
AUDIT_KEY = b"test-audit-key-0123456789abcdef"
BALLOT_SECRET = b"test-ballot-secret-0123456789abcdef"
ADMIN = Account(Platform.TELEGRAM, "1000")


def _unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable ({exc.__class__.__name__}: {exc})"
    if IN_CI:
        pytest.fail(f"{message}: CI must run the PostgreSQL/Redis suite", pytrace=False)
    pytest.skip(message)


async def ensure_worker_database() -> None:
    """This worker's own PostgreSQL database (made the first time it is needed)."""
    if PG_URL == BASE_PG_URL:
        return
    base = create_async_engine(ADMIN_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with base.connect() as conn:
            name = make_url(PG_URL).database
            found = await conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if found.first() is None:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await base.dispose()


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A fresh schema in the `test` database, migrated once for the whole session."""
    import asyncio

    schema = f"t_{uuid.uuid4().hex[:12]}"

    async def setup() -> None:
        await ensure_worker_database()
        admin = create_async_engine(PG_URL)
        try:
            async with admin.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        finally:
            await admin.dispose()
        engine = pg_engine(schema)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    async def teardown() -> None:
        admin = create_async_engine(PG_URL)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()

    try:
        asyncio.run(setup())
    except (OSError, ConnectionError) as exc:
        _unavailable("PostgreSQL", exc)
    except Exception as exc:
        if "connect" in str(exc).lower() or "refused" in str(exc).lower():
            _unavailable("PostgreSQL", exc)
        raise
    yield schema
    asyncio.run(teardown())


def pg_engine(schema: str) -> AsyncEngine:
    return create_async_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per worker; each test gets a copy (the same schema as its
    own migration would give, without the ~0.5 s that running the migrations takes)."""
    import asyncio

    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"

    async def setup() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(setup())
    return path


def migrated_sqlite(template: Path, path: Path) -> str:
    """A copy of the migrated template at `path` (with its WAL, if one is left); its URL."""
    for suffix in ("", "-wal", "-shm"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copyfile(source, path.with_name(path.name + suffix))
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite, else the PostgreSQL schema; resolved here, outside the event loop
    (pg_schema runs asyncio.run, which cannot run inside the async `db` fixture)."""
    if request.param == "sqlite":
        return None
    schema: str = request.getfixturevalue("pg_schema")
    return schema


@pytest.fixture
async def db(
    backend: str | None, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A migrated database; each test runs inside one transaction that is rolled back."""
    if backend is None:
        engine = create_engine(migrated_sqlite(sqlite_template, tmp_path / "test.db"))
    else:
        engine = pg_engine(backend)
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield Database(engine, bind=conn)
        await outer.rollback()
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


class Tokens:
    """`Services.token_bytes` of the tests: 1, 2, 3, … as big-endian bytes. It counts what it
    gave, so a bloc restored from a snapshot (tests/handlers/snapshots.py) goes on from there."""

    def __init__(self) -> None:
        self.used = 0

    def __call__(self, n: int) -> bytes:
        self.used += 1
        return self.used.to_bytes(n, "big")


@pytest.fixture
def services(db: Database, clock: FakeClock, tmp_path: Path) -> Services:
    return Services(
        db=db,
        clock=clock,
        renderer=Renderer(),
        audit_key=AUDIT_KEY,
        ballot_secret=BALLOT_SECRET,
        files=FileStore(tmp_path / "files"),
        admins=frozenset({ADMIN}),
        bot_username="thidua_test_bot",
        token_bytes=Tokens(),
    )


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A reachable Redis (database 15, flushed before and after); CI fails when it is down."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # any failure means "not reachable"
        await client.aclose()
        _unavailable("Redis", exc)
    await client.flushdb()
    yield REDIS_URL
    await client.flushdb()
    await client.aclose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran on each storage backend, so a silent skip cannot hide."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            for backend in ("sqlite", "postgresql"):
                if f"[{backend}" in nodeid or f"-{backend}]" in nodeid or f"-{backend}-" in nodeid:
                    counts.setdefault(backend, {}).setdefault(outcome, 0)
                    counts[backend][outcome] += 1
    if counts:
        terminalreporter.section("storage backends")
        for backend, by_outcome in sorted(counts.items()):
            parts = ", ".join(f"{n} {o}" for o, n in sorted(by_outcome.items()))
            terminalreporter.write_line(f"[{backend}] {parts}")


COMMITTED_POOL = 30


async def _fresh_pg_schema() -> tuple[AsyncEngine, str]:
    schema = f"c_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(PG_URL)
    try:
        await ensure_worker_database()
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, ConnectionError) as exc:
        _unavailable("PostgreSQL", exc)
    except Exception as exc:
        if "connect" in str(exc).lower() or "refused" in str(exc).lower():
            _unavailable("PostgreSQL", exc)
        raise
    finally:
        await admin.dispose()
    engine = create_async_engine(
        PG_URL,
        connect_args={"server_settings": {"search_path": schema}},
        pool_size=COMMITTED_POOL,
        max_overflow=0,
    )
    return engine, schema


@pytest.fixture(params=["sqlite", "postgresql"])
async def committed_db(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A migrated database whose units of work really commit (no outer transaction)."""
    if request.param == "sqlite":
        engine = create_engine(migrated_sqlite(sqlite_template, tmp_path / "c.db"))
        database = Database(engine)
        yield database
        await database.dispose()  # the engine, and a background purge still running
        return
    engine, schema = await _fresh_pg_schema()
    database = Database(engine)
    try:
        await migrate(engine)
        yield database
    finally:
        await database.dispose()
        admin = create_async_engine(PG_URL)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    """A throwaway PostgreSQL database (nothing in it), dropped afterwards."""
    name = f"thidua_secret_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(ADMIN_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, ConnectionError) as exc:
        _unavailable("PostgreSQL", exc)
    except Exception as exc:
        if "connect" in str(exc).lower() or "refused" in str(exc).lower():
            _unavailable("PostgreSQL", exc)
        raise
    finally:
        await admin.dispose()
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    admin = create_async_engine(ADMIN_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
