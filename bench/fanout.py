"""Fan-out benchmark (issue 6, acceptance 4; issue 9: several workers sharing the budget):
2,000 reminders to 2,000 chats through the outbox sender, against the fake Bot API with
Telegram's flood limits on (30 messages in any one-second window, 1 per second per chat; 429
with retry_after beyond them).

    .venv/bin/python bench/fanout.py [--count 2000] [--database-url postgresql://...]
                                     [--workers N] [--redis-url redis://127.0.0.1:6379/3]

(or `.venv/bin/python -m bench.fanout …`, the same arguments).

Without --database-url it runs on a temporary SQLite file; with a PostgreSQL URL it works in a
fresh schema that it drops afterwards.

With --workers 1 (the default) one `Sender` in this process drains the outbox within a
`LocalRateLimiter`. With --workers N > 1, N child processes (this script again, in a hidden
`--child` mode) each run a `Sender` draining the same outbox on PostgreSQL (claims skip rows
another worker holds: FOR UPDATE SKIP LOCKED) and share one budget through
`RedisRateLimiter`, as `python -m bot run` does when Redis is configured. That needs
PostgreSQL: without --database-url it uses postgresql://postgres@127.0.0.1:5432/test, and a
SQLite URL is refused. The budget lives in Redis (--redis-url, default database 3) under a
key prefix of its own (`thidua:rl:fanout-<random>`, beside production's `thidua:rl`), whose
keys are deleted afterwards. This process serves the fake Bot API, enqueues the rows, starts
the children once they are connected, waits (bounded) until nothing is pending, stops any
child still running and reads each child's figures (a JSON line on its stdout).

The last line is

    fanout ratio=<achieved rate / 30 per second> lost=<n> duplicated=<n> http429=<n>

followed by ` workers=<n>` when N > 1, where the rate is messages per second from the first
to the last accepted send on the fake's clock (n messages span n - 1 intervals), lost counts
chats that received nothing and duplicated the messages beyond one per chat. `--per-second`
above 30 makes the sender overrun the fake's limits, to watch the 429 path (pause, row back
after retry_after); with several workers it is the budget they share, not each one's.

The budget's 28/s leaves two messages of slack under the fake's 30: a send that reaches the
fake more than 2/28 s (71 ms) after its slot, followed by on-time ones, fills a one-second
window, so a machine loaded by other work shows some 429s (each pauses all sending >= 1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/fanout.py`

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.models import Platform
from bot.core.ports import Button, OutgoingMessage
from bot.fakes.telegram import FakeTelegram
from bot.render import Renderer
from bot.runtime import make_bot
from bot.services.clock import SystemClock
from handlers.telegram.notifier import TelegramNotifier
from scheduler.ratelimit import GLOBAL_PER_SECOND, LocalRateLimiter, RedisRateLimiter
from scheduler.sender import DrainStats, Sender
from storage.db import create_engine, is_sqlite, normalise_url
from storage.migrate import migrate
from storage.outbox_repos import Queued
from storage.redis_client import redis_client
from storage.uow import Database

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
TOKEN = "123456:TEST-TOKEN"
TELEGRAM_PER_SECOND = 30
FIRST_CHAT = 700_000_001
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"  # tests use 8-15
RATE_PREFIX = "thidua:rl"  # RedisRateLimiter's default: the key prefix production uses
CHILD_START = 120.0  # seconds for a child to import, connect and say it is ready


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def schema_engine(url: str, schema: str) -> AsyncEngine:
    """An engine whose sessions work in `schema` (PostgreSQL)."""
    return create_async_engine(
        normalise_url(url), connect_args={"server_settings": {"search_path": schema}}, pool_size=20
    )


@asynccontextmanager
async def database(url: str | None) -> AsyncIterator[tuple[Database, str, str | None]]:
    """A migrated, empty database: a temporary SQLite file, or a fresh PostgreSQL schema
    (its name third, for the workers to join it; None on SQLite)."""
    if url is None or is_sqlite(url):
        with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
            engine = create_engine(url or f"sqlite+aiosqlite:///{Path(tmp) / 'fanout.db'}")
            await migrate(engine)
            db = Database(engine)
            try:
                yield db, "sqlite", None
            finally:
                await db.dispose()
        return
    url = normalise_url(url)
    schema = f"fanout_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = schema_engine(url, schema)
        await migrate(engine)
        db = Database(engine)
        try:
            shown = make_url(url).render_as_string(hide_password=True)
            yield db, f"postgresql ({shown})", schema
        finally:
            await db.dispose()
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await admin.dispose()


def reminder(i: int, now: datetime) -> Queued:
    chat = FIRST_CHAT + i
    message = OutgoingMessage(
        Platform.TELEGRAM,
        str(chat),
        f"⏰ <b>Báo cáo tháng 11</b> của đơn vị {i} hạn 17:00 thứ Sáu, 20/12/2024 (còn 2 ngày).",
        ((Button("Nộp báo cáo", callback_data=f"report:open:{i}"),),),
    )
    return Queued(f"remind:bench:{i}:0", message, not_before=now, identity_id=None)


def add(total: DrainStats, more: DrainStats) -> None:
    total.sent += more.sent
    total.retried += more.retried
    total.rate_limited += more.rate_limited
    total.unreachable += more.unreachable
    total.failed += more.failed
    total.errors.extend(more.errors)


def give_up_after(count: int) -> float:
    return max(120.0, count / 5)


async def pending_rows(db: Database) -> int:
    async with db.uow() as uow:
        return await uow.outbox.pending()


def summary(
    fake: FakeTelegram, count: int, workers: int
) -> tuple[str, str]:  # (delivered line, last line)
    chats = [FIRST_CHAT + i for i in range(count)]
    delivered = sum(fake.delivered.values())
    lost = sum(1 for chat in chats if fake.delivered[chat] == 0)
    duplicated = sum(max(0, n - 1) for n in fake.delivered.values())
    times = fake.delivery_times
    elapsed = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / elapsed if elapsed > 0 else 0.0  # intervals per second
    ratio = rate / TELEGRAM_PER_SECOND
    line = f"delivered {delivered} in {elapsed:.2f} s from first to last send "
    line += f"({rate:.2f} msg/s; limit {TELEGRAM_PER_SECOND}/s)"
    last = f"fanout ratio={ratio:.2f} lost={lost} duplicated={duplicated} http429={fake.http429}"
    return line, last + (f" workers={workers}" if workers > 1 else "")


def sender_line(stats: DrainStats) -> str:
    return (
        f"sent {stats.sent}, 429 {stats.rate_limited}, retried {stats.retried}, "
        f"unreachable {stats.unreachable}, failed {stats.failed}"
    )


async def run(count: int, url: str | None, concurrency: int, batch: int, per_second: float) -> str:
    """One sender in this process, within a `LocalRateLimiter`."""
    clock = SystemClock()
    async with FakeTelegram(TOKEN) as fake, database(url) as (db, backend, _):
        fake.enforce_limits(overall=TELEGRAM_PER_SECOND, chat_interval=1.0)
        now = clock.now()
        async with db.uow() as uow:
            enqueued = await uow.outbox.enqueue([reminder(i, now) for i in range(count)], now)
            await uow.commit()
        bot = make_bot(TOKEN, fake.url)
        sender = Sender(
            db,
            TelegramNotifier(bot),
            LocalRateLimiter(per_second),
            clock,
            Renderer(),
            concurrency=concurrency,
        )
        stats = DrainStats()
        started = time.monotonic()
        give_up = started + give_up_after(count)
        try:
            while True:
                add(stats, await sender.drain(batch=batch))
                pending = await pending_rows(db)
                if pending == 0 or time.monotonic() > give_up:
                    break
                await asyncio.sleep(0.05)  # rows put back after a 429 are due later
        finally:
            await bot.session.close()
        wall = time.monotonic() - started

        delivered, last = summary(fake, count, 1)
        say(
            f"backend: {backend}; sender budget {per_second:g}/s, concurrency {concurrency}, "
            f"claim batch {batch}"
        )
        say(f"enqueued {enqueued} reminders to {count} chats; still pending {pending}")
        say(f"sender: {sender_line(stats)}")
        say(f"{delivered}; drain loop {wall:.2f} s")
        return last


# --- several workers ------------------------------------------------------------------------


class Worker:
    """One child process: its pipes, and its figures once it has said them."""

    def __init__(self, index: int, proc: asyncio.subprocess.Process) -> None:
        self.index = index
        self.proc = proc
        self.stats = DrainStats()
        self.report: dict[str, object] = {}

    async def line(self) -> str:
        assert self.proc.stdout is not None
        return (await self.proc.stdout.readline()).decode().strip()

    async def ready(self) -> None:
        line = await asyncio.wait_for(self.line(), CHILD_START)
        if line != "ready":
            raise RuntimeError(f"worker {self.index} did not start (said {line!r})")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.close()

    async def finish(self, grace: float) -> None:
        """Wait `grace` seconds for it to end on its own, then SIGTERM (it stops and reports),
        then SIGKILL; read the JSON line it printed last."""
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except TimeoutError:
            with suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                with suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        assert self.proc.stdout is not None
        for raw in reversed((await self.proc.stdout.read()).decode().splitlines()):
            if raw.startswith("{"):
                self.report = json.loads(raw)
                break
        for key in ("sent", "retried", "rate_limited", "unreachable", "failed"):
            value = self.report.get(key, 0)
            setattr(self.stats, key, value if isinstance(value, int) else 0)

    def describe(self) -> str:
        pid = self.report.get("pid", self.proc.pid)
        how = "" if self.report.get("stopped") is False else " (stopped: figures partial)"
        if not self.report:
            how = f" (no report; exit code {self.proc.returncode})"
        return f"worker {self.index} (pid {pid}): {sender_line(self.stats)}{how}"


async def start_worker(index: int, args: list[str]) -> Worker:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--child",
        str(index),
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,  # stderr: ours, so a child's traceback shows
    )
    return Worker(index, proc)


async def delete_keys(redis_url: str, prefix: str) -> int:
    redis = redis_client(redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=1000)]
        for start in range(0, len(keys), 500):
            await redis.delete(*keys[start : start + 500])
        return len(keys)
    finally:
        await redis.aclose()


async def run_workers(
    count: int,
    url: str,
    workers: int,
    redis_url: str,
    concurrency: int,
    batch: int,
    per_second: float,
) -> str:
    """`workers` sender processes on one PostgreSQL outbox, one budget in Redis."""
    clock = SystemClock()
    prefix = f"{RATE_PREFIX}:fanout-{uuid.uuid4().hex[:12]}"
    redis = redis_client(redis_url)
    try:
        await redis.ping()
    finally:
        await redis.aclose()
    async with FakeTelegram(TOKEN) as fake, database(url) as (db, backend, schema):
        assert schema is not None
        fake.enforce_limits(overall=TELEGRAM_PER_SECOND, chat_interval=1.0)
        now = clock.now()
        async with db.uow() as uow:
            enqueued = await uow.outbox.enqueue([reminder(i, now) for i in range(count)], now)
            await uow.commit()
        child_args = [
            f"--count={count}",
            f"--database-url={url}",
            f"--schema={schema}",
            f"--api-url={fake.url}",
            f"--redis-url={redis_url}",
            f"--redis-prefix={prefix}",
            f"--concurrency={concurrency}",
            f"--batch={batch}",
            f"--per-second={per_second!r}",
        ]
        children: list[Worker] = []
        grace = 0.0  # on an error or a timeout, the children are stopped at once
        try:
            for index in range(workers):
                children.append(await start_worker(index, child_args))
            await asyncio.gather(*(child.ready() for child in children))
            for child in children:
                child.go()
            started = time.monotonic()
            give_up = started + give_up_after(count)
            while True:
                if await pending_rows(db) == 0:
                    grace = 10.0  # each child sees it too and ends by itself
                    break
                gone = all(child.proc.returncode is not None for child in children)
                if gone or time.monotonic() > give_up:
                    break
                await asyncio.sleep(0.1)
            wall = time.monotonic() - started
        finally:
            await asyncio.gather(*(child.finish(grace) for child in children))
            removed = await delete_keys(redis_url, prefix)
        pending = await pending_rows(db)
        stats = DrainStats()
        for child in children:
            add(stats, child.stats)

        delivered, last = summary(fake, count, workers)
        say(
            f"backend: {backend}; {workers} worker processes sharing one budget of "
            f"{per_second:g}/s in Redis ({redis_url}, "
            f"prefix {prefix}, {removed} keys deleted after); each: concurrency {concurrency}, "
            f"claim batch {batch}"
        )
        say(f"enqueued {enqueued} reminders to {count} chats; still pending {pending}")
        for child in children:
            say(child.describe())
        say(f"sender (all workers): {sender_line(stats)}")
        say(f"{delivered}; drain loop {wall:.2f} s")
        return last


async def child(args: argparse.Namespace) -> None:
    """A worker: connect, say `ready`, wait for `go` on stdin, drain until nothing is pending
    (or SIGTERM), then print its DrainStats as one JSON line."""
    clock = SystemClock()
    db = Database(schema_engine(args.database_url, args.schema))
    redis = redis_client(args.redis_url)
    bot = make_bot(TOKEN, args.api_url)
    limiter = RedisRateLimiter(redis, per_second=args.per_second, prefix=args.redis_prefix)
    sender = Sender(
        db,
        TelegramNotifier(bot),
        limiter,
        clock,
        Renderer(),
        worker=f"fanout-{args.child}",
        concurrency=args.concurrency,
    )
    stats = DrainStats()
    stopped = False
    loop = asyncio.get_running_loop()
    try:
        await pending_rows(db)  # connected before the start
        await redis.ping()
        say("ready")
        if (await loop.run_in_executor(None, sys.stdin.readline)).strip() != "go":
            return  # the parent is gone, or gave up before the start
        work = asyncio.current_task()
        assert work is not None
        loop.add_signal_handler(signal.SIGTERM, work.cancel)
        give_up = time.monotonic() + give_up_after(args.count) + 30  # the parent's, and more
        try:
            while time.monotonic() < give_up:
                # One claim at a time, so that a SIGTERM loses at most one round's figures.
                more = await sender.drain(batch=args.batch, max_rounds=1)
                add(stats, more)
                if more.sent + more.retried + more.rate_limited + more.unreachable + more.failed:
                    continue  # it claimed rows: claim again at once
                if await pending_rows(db) == 0:
                    break
                await asyncio.sleep(0.05)  # rows held by the other workers, or put back
        except asyncio.CancelledError:
            stopped = True
            work.uncancel()
        loop.remove_signal_handler(signal.SIGTERM)
    finally:
        await bot.session.close()
        await redis.aclose()
        await db.dispose()
    say(
        json.dumps({"worker": args.child, "pid": os.getpid(), "stopped": stopped, **asdict(stats)})
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=2000, help="reminders (and chats)")
    parser.add_argument(
        "--database-url",
        default=None,
        help=f"PostgreSQL URL (default: temporary SQLite; with --workers > 1: {DEFAULT_PG_URL})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="sender processes sharing the outbox and one budget in Redis (> 1: PostgreSQL)",
    )
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help="the shared budget (--workers > 1)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="the sender's concurrency")
    parser.add_argument("--batch", type=int, default=200, help="rows claimed at a time")
    parser.add_argument(
        "--per-second",
        type=float,
        default=GLOBAL_PER_SECOND,
        help="the sender's global budget (above 30 shows the 429 path)",
    )
    # The child mode: a worker started by the parent (not for use by hand).
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--schema", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--redis-prefix", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        asyncio.run(child(args))
        return
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.workers == 1:
        line = asyncio.run(
            run(args.count, args.database_url, args.concurrency, args.batch, args.per_second)
        )
    else:
        url = args.database_url or DEFAULT_PG_URL
        if is_sqlite(url):
            parser.exit(2, "fanout: --workers > 1 needs PostgreSQL (SQLite has one writer)\n")
        line = asyncio.run(
            run_workers(
                args.count,
                url,
                args.workers,
                args.redis_url,
                args.concurrency,
                args.batch,
                args.per_second,
            )
        )
    say(line)


if __name__ == "__main__":
    main()
