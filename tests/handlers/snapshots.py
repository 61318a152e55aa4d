"""The standard blocs built once through the chat, then restored for the next test that builds
the same one.

`report_setup` and `conference_setup` are ~10–20 chat round trips (1–2 s a test, ~200 tests on
two backends). The first call in a worker with given arguments runs them for real and records
what they left: every row of every table (raw column values), the sequences, the harness's
requests, sent files and message ids, the conversation states, the stored files, the clock
and how many tokens were drawn. A later call with the same arguments, on the same backend,
from the same starting point (an empty database, a fresh harness, the same services settings)
restores that record instead: the test then starts from the very state the commands would
have left, and what it does from there runs for real.

A call that does not start from that point (something done before it, another sender, a
changed token source, ...) runs the commands. TEST_SNAPSHOTS=0 runs them always; with
TEST_SNAPSHOTS=check every call runs them and, on SQLite, asserts that the result is exactly
the recorded one (rows, ids, requests), which is how this module is checked.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Coroutine
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Any, Concatenate, ParamSpec

from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy import Table, text
from sqlmodel import SQLModel

import storage.tables  # noqa: F401 (the tables, in SQLModel.metadata)
from bot.fakes.clock import FakeClock
from tests.conftest import Tokens
from tests.handlers.conftest import Harness

MODE = os.environ.get("TEST_SNAPSHOTS", "1").lower()
P = ParamSpec("P")
Setup = Callable[Concatenate[Harness, P], Coroutine[Any, Any, None]]


@dataclass
class _Record:
    rows: dict[str, list[dict[str, Any]]]
    sqlite_sequence: list[tuple[str, int]]
    requests: list[Any]
    sent_files: dict[str, tuple[str, bytes]]
    message_ids: dict[Any, int]
    last: Any
    alerts: list[str]
    states: dict[Any, tuple[str | None, dict[str, Any]]]
    stored: dict[str, bytes]
    now: datetime
    tokens: int


_RECORDS: dict[tuple[Any, ...], _Record] = {}
_TABLES: list[Table] = list(SQLModel.metadata.sorted_tables)  # parents before children
_COUNT = re.compile(r"count\((\d+)\)")


def snapshotted(setup: Setup[P]) -> Setup[P]:
    @functools.wraps(setup)
    async def wrapper(tg: Harness, /, *args: P.args, **kwargs: P.kwargs) -> None:
        key = await _key(tg, setup.__name__, args, kwargs) if MODE != "0" else None
        if key is None:
            await setup(tg, *args, **kwargs)
            return
        found = _RECORDS.get(key)
        if found is not None and MODE != "check":
            await _restore(tg, found)
            return
        await setup(tg, *args, **kwargs)
        made = await _record(tg)
        if found is None:
            _RECORDS[key] = made
        elif key[1] == "sqlite":
            _same(found, made)

    return wrapper


async def _key(
    tg: Harness, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...] | None:
    """What the result depends on, or None when the call does not start from a fresh state."""
    services = tg.services
    session = tg.bot.mock_session
    storage = tg.bot.dp.storage
    fresh = (
        type(tg) is Harness
        and isinstance(services.token_bytes, Tokens)
        and services.token_bytes.used == 0
        and isinstance(services.clock, FakeClock)
        and tg.sender is not None
        and tg.sender is getattr(tg, "standard_sender", None)
        and services.outbox_flush == tg.flush
        and not session.requests
        and not session.files
        and not session._results
        and not session.auto._message_ids
        and not tg.alerts
        and isinstance(storage, MemoryStorage)
        and not any(r.state is not None or r.data for r in storage.storage.values())
        and not (services.files.root.exists() and any(services.files.root.iterdir()))
    )
    if not fresh:
        return None
    async with services.db.uow() as uow:
        conn = await uow.session.connection()
        dialect = conn.dialect.name
        total = " + ".join(f'(SELECT count(*) FROM "{t.name}")' for t in _TABLES)
        if (await conn.execute(text(f"SELECT {total}"))).scalar_one() != 0:
            return None
    return (
        name,
        dialect,
        repr(args),
        repr(sorted(kwargs.items())),
        services.clock.now(),
        services.admins,
        services.bot_username,
        services.web_url,
        services.channels,
        services.audit_key,
        services.ballot_secret,
        type(services.renderer),
    )


async def _record(tg: Harness) -> _Record:
    services = tg.services
    session = tg.bot.mock_session
    rows: dict[str, list[dict[str, Any]]] = {}
    sqlite_sequence: list[tuple[str, int]] = []
    async with services.db.uow() as uow:
        conn = await uow.session.connection()
        for table in _TABLES:
            order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
            result = await conn.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))
            found = [dict(r._mapping) for r in result]
            if found:
                rows[table.name] = found
        if conn.dialect.name == "sqlite":
            result = await conn.execute(text("SELECT name, seq FROM sqlite_sequence"))
            sqlite_sequence = [(str(r[0]), int(r[1])) for r in result]
    storage = tg.bot.dp.storage
    assert isinstance(storage, MemoryStorage)
    assert isinstance(services.token_bytes, Tokens)
    root = services.files.root
    return _Record(
        rows=rows,
        sqlite_sequence=sqlite_sequence,
        requests=list(session.requests),
        sent_files=dict(session.files),
        message_ids={
            chat: int(_COUNT.fullmatch(repr(ids)).group(1))  # type: ignore[union-attr]
            for chat, ids in session.auto._message_ids.items()
        },
        last=tg.bot.last,
        alerts=list(tg.alerts),
        states={
            key: (r.state, deepcopy(r.data))
            for key, r in storage.storage.items()
            if r.state is not None or r.data
        },
        stored={str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else {},
        now=services.clock.now(),
        tokens=services.token_bytes.used,
    )


async def _restore(tg: Harness, record: _Record) -> None:
    services = tg.services
    async with services.db.uow() as uow:
        conn = await uow.session.connection()
        for table in _TABLES:
            found = record.rows.get(table.name)
            if not found:
                continue
            columns = list(found[0])
            names = ", ".join(f'"{c}"' for c in columns)
            values = ", ".join(f":{c}" for c in columns)
            await conn.execute(
                text(f'INSERT INTO "{table.name}" ({names}) VALUES ({values})'), found
            )
        if conn.dialect.name == "sqlite":
            await conn.execute(text("DELETE FROM sqlite_sequence"))
            for name, seq in record.sqlite_sequence:
                await conn.execute(
                    text("INSERT INTO sqlite_sequence (name, seq) VALUES (:n, :s)"),
                    {"n": name, "s": seq},
                )
        else:
            # The serial ids go on after the restored rows (sequences are not rolled back,
            # so they may stand higher already: then they stay there).
            for table in _TABLES:
                keys = list(table.primary_key.columns)
                if table.name not in record.rows or len(keys) != 1:
                    continue
                [key] = keys
                await conn.execute(
                    text(
                        "SELECT setval(s, GREATEST("
                        f'(SELECT max("{key.name}") FROM "{table.name}"), '
                        "pg_sequence_last_value(s))) "
                        "FROM (SELECT pg_get_serial_sequence(:t, :c)::regclass AS s) AS q "
                        "WHERE s IS NOT NULL"
                    ),
                    {"t": table.name, "c": key.name},
                )
        await uow.commit()
    session = tg.bot.mock_session
    session.requests.extend(record.requests)
    session.files.update(record.sent_files)
    for chat, next_id in record.message_ids.items():
        session.auto._message_ids[chat] = count(next_id)
    tg.bot.last = record.last
    tg.alerts.extend(record.alerts)
    storage = tg.bot.dp.storage
    assert isinstance(storage, MemoryStorage)
    for key, (state, data) in record.states.items():
        storage.storage[key].state = state
        storage.storage[key].data = deepcopy(data)
    root = services.files.root
    for name, content in record.stored.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    assert isinstance(services.clock, FakeClock)
    assert isinstance(services.token_bytes, Tokens)
    services.clock.set(record.now)
    services.token_bytes.used = record.tokens


def _same(recorded: _Record, made: _Record) -> None:
    """TEST_SNAPSHOTS=check: the commands left exactly what was recorded (SQLite: same ids)."""
    assert made.rows == recorded.rows
    assert made.sqlite_sequence == recorded.sqlite_sequence
    assert [m.model_dump() for m in made.requests] == [m.model_dump() for m in recorded.requests]
    assert made.sent_files == recorded.sent_files
    assert made.message_ids == recorded.message_ids
    assert made.alerts == recorded.alerts
    assert made.states == recorded.states
    assert made.stored == recorded.stored
    assert (made.now, made.tokens) == (recorded.now, recorded.tokens)
