"""Memory benchmark (issue 9): resident memory of one bot process, idle after start-up and
after 10,000 processed updates.

    .venv/bin/python bench/memory.py [--updates 10000] [--backend sqlite|postgresql]

The bot runs as one webhook process (`python -m bot run`) on a temporary SQLite file, or on a
throwaway PostgreSQL database (127.0.0.1:5432 or BENCH_DATABASE_URL's server; dropped
afterwards). Its world: --reps representatives, one per unit, in blocs of
--units units with ballot 1 open (bench/harness.py). --clients chats post updates to the
webhook, each waiting for the bot's reply before the next: /help, /me, a vote cast, /help, in
turn. Resident memory is VmRSS from /proc/<pid>/status, read idle (after start-up) and at
checkpoints. The last line is

    memory idle_mb=<n> after_mb=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/memory.py`

import aiohttp

from bench.botapi import BotApi
from bench.harness import (
    BOT_ID,
    JSON,
    TOKEN,
    Driver,
    build_world,
    postgres_database,
    rss_mb,
    say,
    start_bot,
    stop,
    text_update,
    vote_update,
)

SETTLE = 3.0  # seconds after /healthz answers before the idle reading
TARGET_GROWTH = 0.20


@asynccontextmanager
async def database(backend: str, tmp: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / 'memory.db'}"
        return
    async with postgres_database() as fresh:
        yield fresh


def update_for(chat: int, n: int, ballots: dict[int, int]) -> JSON:
    """The n-th update of a chat: /help, /me, a cast (alternating options), /help, …"""
    kind = n % 4
    if kind == 1:
        return text_update(chat, "/me")
    if kind == 2:
        return vote_update(chat, ballots[chat], (n // 4) % 2)
    return text_update(chat, "/help")


async def run(args: argparse.Namespace) -> str:
    checkpoints = sorted({c for c in (100, 1_000, 2_500, 5_000, 7_500) if c < args.updates})
    checkpoints.append(args.updates)
    with tempfile.TemporaryDirectory(prefix="memory-") as tmp_name:
        tmp = Path(tmp_name)
        backend = args.backend
        async with BotApi(TOKEN, bot_id=BOT_ID) as api, database(backend, tmp) as url:
            world = await build_world(url, args.reps, tmp / "world", units=args.units)
            # One process, no Redis: conversation state and handled updates in its memory.
            running = await start_bot(api, tmp, url, workers=1, redis=False)
            pid = running.pids[0]
            try:
                await asyncio.sleep(SETTLE)
                idle = rss_mb(pid)
                say(
                    f"bot pid {pid} on {backend}; {len(world.chats)} representatives in "
                    f"{world.blocs} bloc(s); {args.clients} clients; mix /help, /me, vote, /help"
                )
                say(f"{'processed':>10} {'RSS MiB':>9} {'vs idle':>8} {'updates/s':>10}")
                say(f"{'idle':>10} {idle:>9.1f} {'':>8} {'':>10}")
                readings = await drive(api, running.webhook, world.ballots, args, checkpoints, pid)
                for processed, rss, rate in readings:
                    say(f"{processed:>10,} {rss:>9.1f} {rss / idle - 1:>+8.1%} {rate:>10.0f}")
                after = readings[-1][1]
            finally:
                await stop(running)
        growth = after / idle - 1
        verdict = "within" if growth <= TARGET_GROWTH else "ABOVE"
        say(
            f"growth {growth:+.1%} after {args.updates:,} updates "
            f"({verdict} the {TARGET_GROWTH:.0%} target); "
            f"replies {', '.join(f'{n:,}× {t!r}' for t, n in api.texts.most_common(3))}"
        )
    return f"memory idle_mb={idle:.1f} after_mb={after:.1f}"


async def drive(
    api: BotApi,
    webhook: str,
    ballots: dict[int, int],
    args: argparse.Namespace,
    checkpoints: list[int],
    pid: int,
) -> list[tuple[int, float, float]]:
    """Closed loop until `args.updates` updates have been answered; (processed, RSS, rate
    since the previous reading) at each checkpoint."""
    chats = list(ballots)[: args.clients]
    issued = itertools.count()
    processed = 0
    failed = 0
    readings: list[tuple[int, float, float]] = []
    reached = asyncio.Event()
    pending = list(checkpoints)
    last = (0, time.monotonic())

    async def client(driver: Driver, chat: int) -> None:
        nonlocal processed, failed, last
        for n in itertools.count():
            if next(issued) >= args.updates:
                return
            try:
                await driver.one(chat, update_for(chat, n, ballots))
            except (aiohttp.ClientError, TimeoutError):
                failed += 1
                continue
            processed += 1
            if pending and processed >= pending[0]:
                pending.pop(0)
                now = time.monotonic()
                rate = (processed - last[0]) / max(1e-9, now - last[1])
                last = (processed, now)
                readings.append((processed, rss_mb(pid), rate))
                if not pending:
                    reached.set()

    async with Driver(api, webhook, timeout=30.0) as driver:
        await asyncio.gather(*(client(driver, chat) for chat in chats))
    if failed:
        say(f"{failed} updates got no reply (counted as not processed)")
    if not reached.is_set():  # some failed: the last reading is what was reached
        readings.append((processed, rss_mb(pid), 0.0))
    return readings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=10_000, help="updates to process")
    parser.add_argument("--clients", type=int, default=10, help="concurrent chats")
    parser.add_argument("--reps", type=int, default=20, help="representatives (one per unit)")
    parser.add_argument("--units", type=int, default=10, help="units per bloc")
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="a temporary SQLite file, or a throwaway database on BENCH_DATABASE_URL's server",
    )
    args = parser.parse_args(argv)
    say(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
