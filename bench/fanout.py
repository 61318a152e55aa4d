"""Fan-out benchmark (issue 6, acceptance 4): 2,000 reminders to 2,000 chats through the outbox
sender, against the fake Bot API with Telegram's flood limits on (30 messages in any one-second
window, 1 per second per chat; 429 with retry_after beyond them).

    .venv/bin/python -m bench.fanout [--count 2000] [--database-url postgresql://...]

Without --database-url it runs on a temporary SQLite file; with a PostgreSQL URL it works in a
fresh schema that it drops afterwards. The last line is

    fanout ratio=<achieved rate / 30 per second> lost=<n> duplicated=<n> http429=<n>

where the rate is messages per second from the first to the last accepted send on the fake's
clock (n messages span n - 1 intervals), lost counts chats that received nothing and
duplicated the messages beyond one per chat. `--per-second` above 30 makes the sender overrun
the fake's limits, to watch the 429 path (pause, row back after retry_after).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/fanout.py`

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.models import Platform
from bot.core.ports import Button, OutgoingMessage
from bot.fakes.telegram import FakeTelegram
from bot.render import Renderer
from bot.runtime import make_bot
from bot.services.clock import SystemClock
from handlers.telegram.notifier import TelegramNotifier
from scheduler.ratelimit import GLOBAL_PER_SECOND, LocalRateLimiter
from scheduler.sender import DrainStats, Sender
from storage.db import create_engine, is_sqlite, normalise_url
from storage.migrate import migrate
from storage.outbox_repos import Queued
from storage.uow import Database

TOKEN = "123456:TEST-TOKEN"
TELEGRAM_PER_SECOND = 30
FIRST_CHAT = 700_000_001


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@asynccontextmanager
async def database(url: str | None) -> AsyncIterator[tuple[Database, str]]:
    """A migrated, empty database: a temporary SQLite file, or a fresh PostgreSQL schema."""
    if url is None or is_sqlite(url):
        with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
            engine = create_engine(url or f"sqlite+aiosqlite:///{Path(tmp) / 'fanout.db'}")
            await migrate(engine)
            db = Database(engine)
            try:
                yield db, "sqlite"
            finally:
                await db.dispose()
        return
    url = normalise_url(url)
    schema = f"fanout_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_async_engine(
            url, connect_args={"server_settings": {"search_path": schema}}, pool_size=20
        )
        await migrate(engine)
        db = Database(engine)
        try:
            yield db, f"postgresql ({make_url(url).render_as_string(hide_password=True)})"
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


async def run(count: int, url: str | None, concurrency: int, batch: int, per_second: float) -> str:
    clock = SystemClock()
    async with FakeTelegram(TOKEN) as fake, database(url) as (db, backend):
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
        give_up = started + max(120.0, count / 5)
        try:
            while True:
                add(stats, await sender.drain(batch=batch))
                async with db.uow() as uow:
                    pending = await uow.outbox.pending()
                if pending == 0 or time.monotonic() > give_up:
                    break
                await asyncio.sleep(0.05)  # rows put back after a 429 are due later
        finally:
            await bot.session.close()
        wall = time.monotonic() - started

        chats = [FIRST_CHAT + i for i in range(count)]
        delivered = sum(fake.delivered.values())
        lost = sum(1 for chat in chats if fake.delivered[chat] == 0)
        duplicated = sum(max(0, n - 1) for n in fake.delivered.values())
        times = fake.delivery_times
        elapsed = times[-1] - times[0] if len(times) > 1 else 0.0
        rate = (len(times) - 1) / elapsed if elapsed > 0 else 0.0  # intervals per second
        ratio = rate / TELEGRAM_PER_SECOND

        say(
            f"backend: {backend}; sender budget {per_second:g}/s, concurrency {concurrency}, "
            f"claim batch {batch}"
        )
        say(f"enqueued {enqueued} reminders to {count} chats; still pending {pending}")
        say(
            f"sender: sent {stats.sent}, 429 {stats.rate_limited}, retried {stats.retried}, "
            f"unreachable {stats.unreachable}, failed {stats.failed}"
        )
        say(
            f"delivered {delivered} in {elapsed:.2f} s from first to last send "
            f"({rate:.2f} msg/s; limit {TELEGRAM_PER_SECOND}/s); drain loop {wall:.2f} s"
        )
        return (
            f"fanout ratio={ratio:.2f} lost={lost} duplicated={duplicated} http429={fake.http429}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=2000, help="reminders (and chats)")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (default: temporary SQLite)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="the sender's concurrency")
    parser.add_argument("--batch", type=int, default=200, help="rows claimed at a time")
    parser.add_argument(
        "--per-second",
        type=float,
        default=GLOBAL_PER_SECOND,
        help="the sender's global budget (above 30 shows the 429 path)",
    )
    args = parser.parse_args(argv)
    line = asyncio.run(
        run(args.count, args.database_url, args.concurrency, args.batch, args.per_second)
    )
    say(line)


if __name__ == "__main__":
    main()
