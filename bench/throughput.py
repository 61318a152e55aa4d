"""Throughput benchmark (issue 9): vote casting over real HTTP, next to a bare aiogram echo bot.

    .venv/bin/python bench/throughput.py [--window 15] [--only echo1,pg1,sqlite1,echo2,pg2]

Configurations: the bot with 1 and 2 webhook workers on PostgreSQL (+ Redis), the bot as one
process on SQLite, and bench/echo_bot.py with 1 and 2 processes, all against the same fake
Bot API (bench/botapi.py) and driven by the same harness (bench/harness.py). The bot's world:
a bloc of --units units, one representative each, everyone checked in, ballot 1 (approve the
report; open, so a unit may re-cast) open. The measured operation: the «Xác nhận» tap of a
cast (callback `vt:<ballot>:ok:<option>`) posted to the webhook → the bot's editMessageText
of the confirm message received by the fake. The echo bot gets a text message and answers it.

(a) capacity, closed loop: --clients chats, each sending its next update as soon as the reply
    to the previous one came; replies per second over --window seconds after --warmup.
(b) latency, open loop: --reps chats offering --rate updates per second in total (Poisson
    arrivals), answered or not; p50/p99 from when each update was due to its reply.

The last line is

    throughput ratio=<best vote capacity / echo capacity of the same worker count> \
p99_ms=<open-loop p99 of that configuration> workers=<n>

Needs PostgreSQL on 127.0.0.1:5432 (user postgres; a throwaway database per configuration,
dropped afterwards; BENCH_DATABASE_URL to point elsewhere) and Redis on 127.0.0.1:6379
database 3 (flushed before and after; BENCH_REDIS_URL). Figures depend on what else the
machine is doing: the table shows the CPU the bot, the harness and the whole machine used.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/throughput.py`

from bench.botapi import BotApi
from bench.harness import (
    BOT_ID,
    FIRST_REP,
    JSON,
    TOKEN,
    Driver,
    Result,
    Running,
    UpdateFor,
    World,
    build_world,
    count_casts,
    flush_redis,
    postgres_database,
    say,
    start_bot,
    start_echo,
    stop,
    text_update,
    vote_update,
)


@dataclass(frozen=True)
class Config:
    key: str
    label: str
    workers: int
    backend: str  # "" (no database), "postgresql" or "sqlite"


TIMEOUT = 15.0  # seconds an update waits for its reply

CONFIGS = (
    Config("echo1", "aiogram echo", 1, ""),
    Config("pg1", "vote casting", 1, "postgresql"),
    Config("sqlite1", "vote casting", 1, "sqlite"),
    Config("echo2", "aiogram echo", 2, ""),
    Config("pg2", "vote casting", 2, "postgresql"),
)


@dataclass
class Measured:
    config: Config
    capacity: Result
    latency: Result
    casts: int | None = None  # casts recorded in the database (vote casting only)
    startup: float = 0.0
    texts: tuple[tuple[str, int], ...] = ()  # the commonest replies (their first line)


def echo_update(chat: int, n: int) -> JSON:
    return text_update(chat, f"echo {n}")


class Worlds:
    """The world is built once per backend: on PostgreSQL into a template database that
    each configuration copies (CREATE DATABASE … TEMPLATE), on SQLite into a file."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.template: tuple[str, World] | None = None
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Worlds:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._stack.aclose()

    async def build(self, url: str, key: str) -> World:
        n = max(self.args.clients, self.args.reps)
        t0 = time.monotonic()
        world = await build_world(url, n, self.tmp / key, units=self.args.units)
        say(
            f"  world ({key}): {len(world.chats)} representatives in {world.blocs} "
            f"bloc(s), one open ballot each, built in {time.monotonic() - t0:.1f} s"
        )
        return world

    @asynccontextmanager
    async def database(self, config: Config) -> AsyncIterator[tuple[str, World]]:
        if config.backend == "postgresql":
            if self.template is None:
                url = await self._stack.enter_async_context(postgres_database())
                self.template = url, await self.build(url, "postgresql")
            async with postgres_database(template=self.template[0]) as url:
                yield url, self.template[1]
        else:
            url = f"sqlite+aiosqlite:///{self.tmp / f'{config.key}.db'}"
            yield url, await self.build(url, config.key)


async def measure(
    config: Config, api: BotApi, args: argparse.Namespace, tmp: Path, worlds: Worlds
) -> Measured:
    chats_needed = max(args.clients, args.reps)
    started = time.monotonic()
    if not config.backend:
        running = await start_echo(api, tmp, workers=config.workers)
        chats = tuple(FIRST_REP + i for i in range(chats_needed))
        try:
            return await _drive(config, api, running, chats, echo_update, args, started)
        finally:
            await stop(running)
    async with worlds.database(config) as (url, world):
        ballots = world.ballots
        redis = config.backend == "postgresql"
        if redis:
            await flush_redis()
        running = await start_bot(api, tmp, url, workers=config.workers, redis=redis)
        try:
            measured = await _drive(
                config,
                api,
                running,
                world.chats,
                lambda chat, n: vote_update(chat, ballots[chat], n % 2),
                args,
                started,
            )
        finally:
            await stop(running)
            if redis:
                await flush_redis()
        measured.casts = await count_casts(url)
        return measured


async def _drive(
    config: Config,
    api: BotApi,
    running: Running,
    chats: tuple[int, ...],
    make: UpdateFor,
    args: argparse.Namespace,
    started: float,
) -> Measured:
    startup = time.monotonic() - started
    api.reset()
    async with Driver(api, running.webhook, timeout=TIMEOUT) as driver:
        capacity = await driver.closed_loop(
            chats[: args.clients],
            make,
            warmup=args.warmup,
            window=args.window,
            pids=running.pids,
        )
        await asyncio.sleep(0.5)  # the closed loop's last replies
        latency = await driver.open_loop(
            chats[: args.reps],
            make,
            rate=args.rate,
            warmup=args.warmup,
            window=args.window,
            pids=running.pids,
        )
    say(
        f"  {config.key:<8} {config.label} x{config.workers} {config.backend or '-'}: "
        f"{capacity.rate:,.0f} replies/s closed loop; open loop p50 {latency.p(50):.1f} ms "
        f"p99 {latency.p(99):.1f} ms (start-up and world {startup:.1f} s)"
    )
    texts = tuple(api.texts.most_common(2))
    return Measured(config, capacity, latency, startup=startup, texts=texts)


def _ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:,.1f}"


def table(results: list[Measured], echo: dict[int, float], args: argparse.Namespace) -> None:
    say()
    say(
        f"capacity: closed loop, {args.clients} clients, {args.window:g} s after "
        f"{args.warmup:g} s warm-up; latency: open loop, {args.reps} chats, "
        f"{args.rate:g} updates/s offered (Poisson)"
    )
    head = (
        f"{'configuration':<28} {'replies/s':>9} {'of echo':>7} {'closed p50/p99 ms':>20} "
        f"{'open p50/p99/max ms':>30} {'open ok':>9} {'lost':>5} "
        f"{'CPU bot/harness/all':>20} {'bot CPU ms/reply':>16}"
    )
    say(head)
    say("-" * len(head))
    for m in results:
        c, cap, lat = m.config, m.capacity, m.latency
        name = f"{c.label} x{c.workers} {c.backend}".strip()
        base = echo.get(c.workers)
        share = f"{cap.rate / base:.0%}" if base and c.backend else ""
        lost = cap.errors + cap.timeouts + lat.errors + lat.timeouts
        cpu = per_reply = ""
        if cap.cpu is not None:
            cpu = f"{cap.cpu.bot:.0f}/{cap.cpu.harness:.0f}/{cap.cpu.machine:.0f}%"
            if cap.replies:
                per_reply = f"{cap.cpu.bot_seconds / cap.replies * 1000:.1f}"
        say(
            f"{name:<28} {cap.rate:>9,.0f} {share:>7} "
            f"{_ms(cap.p(50)) + ' / ' + _ms(cap.p(99)):>20} "
            f"{_ms(lat.p(50)) + ' / ' + _ms(lat.p(99)) + ' / ' + _ms(lat.p(100)):>30} "
            f"{f'{lat.replies}/{lat.offered}':>9} {lost:>5} {cpu:>20} {per_reply:>16}"
        )
    say(
        "CPU during the closed loop: the processes under test (100% = one core), this harness "
        "(fake Bot API and clients), the whole machine (100% = every core); bot CPU ms/reply: "
        "the CPU time the processes under test spent per reply (PostgreSQL's and Redis's "
        "own work not included)"
    )
    say(
        f"lost: updates of either loop without a reply within {TIMEOUT:g} s (counted in the "
        f"percentiles as {TIMEOUT * 1000:,.0f} ms, a lower bound) or refused by the webhook"
    )
    for m in results:
        replies = "; ".join(f"{n:,}× {t!r}" for t, n in m.texts)
        casts = f"{m.casts:,} casts recorded; " if m.casts is not None else ""
        say(f"{m.config.key}: {casts}replies {replies}")


async def run(args: argparse.Namespace) -> str:
    wanted = [c for c in CONFIGS if c.key in args.only.split(",")]
    results: list[Measured] = []
    started = time.monotonic()
    n = max(args.clients, args.reps)
    say(
        f"{len(wanted)} configurations; {n} representatives, one per unit, "
        f"in blocs of {args.units} units"
    )
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        async with BotApi(TOKEN, bot_id=BOT_ID) as api, Worlds(args, Path(tmp)) as worlds:
            for config in wanted:
                results.append(await measure(config, api, args, Path(tmp), worlds))
    echo = {m.config.workers: m.capacity.rate for m in results if not m.config.backend}
    table(results, echo, args)
    votes = [m for m in results if m.config.backend]
    say(f"total {time.monotonic() - started:.0f} s")
    if not votes:
        return "throughput ratio=nan p99_ms=nan workers=0"
    best = max(votes, key=lambda m: m.capacity.rate)
    base = echo.get(best.config.workers, float("nan"))
    ratio = best.capacity.rate / base if base else float("nan")
    return (
        f"throughput ratio={ratio:.2f} p99_ms={best.latency.p(99):.1f} "
        f"workers={best.config.workers}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each window")
    parser.add_argument("--clients", type=int, default=50, help="closed-loop clients")
    parser.add_argument("--reps", type=int, default=200, help="open-loop representatives")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop updates/s")
    parser.add_argument(
        "--units",
        type=int,
        default=50,
        help="units per bloc (at most 200): the closed loop's clients are the first bloc's "
        "representatives (a conference voting at once), the open loop's all the blocs'",
    )
    parser.add_argument(
        "--only",
        default=",".join(c.key for c in CONFIGS),
        help="configurations to run (comma-separated)",
    )
    args = parser.parse_args(argv)
    say(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
