"""What the load benchmarks (issue 9) share: throwaway databases, a world of blocs at their
conference with a ballot open, the bot (or a bare aiogram echo bot) as real webhook
processes, and the drivers that play representatives over real HTTP.

An update is posted to the bot's webhook URL with the secret header, exactly as Telegram
would; its latency runs from that moment (for the open loop: from the moment it was due) to
the arrival of the bot's reply for that chat at the fake Bot API (`bench.botapi.BotApi`).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.botapi import BotApi
from bot.core.models import Account, Locale, Membership, Platform, Role
from bot.core.voting import BallotStatus
from bot.render import Renderer
from bot.services import units, voting
from bot.services.actors import Actor, resolve_actor
from bot.services.app import Services
from bot.services.blocs import check_draft, create_bloc
from bot.services.clock import SystemClock
from bot.services.outcomes import Rejected
from storage.db import create_engine
from storage.files import FileStore
from storage.migrate import migrate
from storage.uow import Database

JSON = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent
TOKEN = "5000000009:AAHbenchBenchBenchBenchBenchBench09"
BOT_ID = 5_000_000_009
SECRET = "bench-webhook-secret-0123"
AUDIT_KEY = "bench-audit-key-0123456789abcdef"
BALLOT_SECRET = "bench-ballot-secret-0123456789abcdef"
SECRETARY = 1001
FIRST_REP = 800_000_001
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Tests use Redis databases 8-15; the bench flushes its own before and after.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
_update_ids = itertools.count(1)


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- databases ------------------------------------------------------------------------------


@asynccontextmanager
async def postgres_database(template: str | None = None) -> AsyncIterator[str]:
    """A throwaway PostgreSQL database (empty, or a copy of `template`'s URL), created from
    the maintenance database and dropped afterwards."""
    name = f"thidua_bench_{uuid.uuid4().hex[:12]}"
    admin_url = make_url(PG_URL.replace("postgresql://", "postgresql+asyncpg://", 1))
    admin = create_async_engine(admin_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        yield admin_url.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False
        )
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def flush_redis() -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


# --- the world: blocs, their representatives, the conference, one open ballot each -------------


@dataclass(frozen=True)
class World:
    ballots: dict[int, int]  # chat -> the open ballot of its bloc

    @property
    def blocs(self) -> int:
        return len(set(self.ballots.values()))

    @property
    def chats(self) -> tuple[int, ...]:
        """One representative per unit, each in a private chat with the bot."""
        return tuple(self.ballots)


def rep_name(chat: int) -> tuple[str, str]:
    """First and last name of the representative chatting from `chat` (as in the updates)."""
    return "Đại diện", f"{chat - FIRST_REP + 1:03d}"


async def build_world(database_url: str, n_reps: int, files: Path, *, units: int) -> World:
    """`n_reps` representatives, one per unit, in blocs of `units` units (the last one
    smaller), each bloc at its conference with every unit checked in, the default ballots
    created and ballot 1 (approve the report: open, re-cast allowed) opened.

    Blocs, units, the conference and the ballots go through the services, as the chat would;
    the joins and check-ins are written through the repositories in one transaction per bloc
    (a join through an invite reads every member of the bloc: minutes for 200 units)."""
    engine = create_engine(database_url)
    await migrate(engine)
    db = Database(engine)
    services = Services(
        db=db,
        clock=SystemClock(),
        renderer=Renderer(),
        audit_key=AUDIT_KEY.encode(),
        ballot_secret=BALLOT_SECRET.encode(),
        files=FileStore(files),
        # Each bloc's secretary is a bootstrap admin (one who may create a bloc).
        admins=frozenset(
            Account(Platform.TELEGRAM, str(SECRETARY + b)) for b in range(-(-n_reps // units))
        ),
        bot_username="thidua_bench_bot",
        channels=frozenset({Platform.TELEGRAM}),
    )
    ballots: dict[int, int] = {}
    try:
        for b, first in enumerate(range(0, n_reps, units)):
            chats = [FIRST_REP + i for i in range(first, min(n_reps, first + units))]
            ballots |= dict.fromkeys(chats, await _bloc(services, b, chats))
        return World(ballots)
    finally:
        await db.dispose()


async def _bloc(services: Services, number: int, chats: list[int]) -> int:
    """One bloc with a unit per chat; returns the id of its open ballot."""
    secretary_id = SECRETARY + number

    async def secretary() -> Actor:
        return await resolve_actor(
            services,
            platform=Platform.TELEGRAM,
            external_id=str(secretary_id),
            display_name=f"Thư ký {number + 1}",
            username=None,
        )

    year = services.clock.now().year
    code = f"KBENCH{number + 1}"
    draft = check_draft("Khối thi đua " + code, "Khối", str(year), code, "", current_year=year)
    assert not isinstance(draft, Rejected), draft
    bloc = await create_bloc(services, await secretary(), draft)
    assert not isinstance(bloc, Rejected), bloc
    rows = "".join(f"Đơn vị số {i:03d},DV{i:03d}\n" for i in range(1, len(chats) + 1))
    imported = await units.import_units(
        services,
        await secretary(),
        filename="units.csv",
        data=("Tên đơn vị,Tên viết tắt\n" + rows).encode(),
    )
    assert isinstance(imported, units.Imported), imported
    now = services.clock.now()
    identities: list[int] = []
    async with services.db.uow() as uow:
        for unit, chat in zip(imported.units, chats, strict=True):
            ident = await uow.identities.create(
                platform=Platform.TELEGRAM,
                external_id=str(chat),
                display_name=" ".join(rep_name(chat)),
                username=None,
                locale=Locale.VI,
                now=now,
            )
            representative = frozenset({Role.REPRESENTATIVE})
            await uow.identities.put_membership(
                Membership(ident.id, bloc.id, unit.id, representative), now
            )
            identities.append(ident.id)
        await uow.commit()
    # The conference ahead (its hall screen link is valid until the end of its day).
    held = max(now.date() + timedelta(days=1), date(year, 12, 20))
    if held.year != year:
        held = date(year, 12, 31)
    fields = [f"{held:%d/%m/%Y} 08:00", "Hội trường", "DV001", "Chủ tọa", "Thư ký", "", "", ""]
    conference = await voting.setup_conference(services, await secretary(), fields)
    assert not isinstance(conference, Rejected), conference
    async with services.db.uow() as uow:
        for unit, ident_id in zip(imported.units, identities, strict=True):
            await uow.votes.check_in(conference.conference.id, unit.id, ident_id, now)
        await uow.commit()
    created = await voting.create_conference_ballots(services, await secretary())
    assert not isinstance(created, Rejected), created
    opened = await voting.open_ballot(services, await secretary(), ref="1")
    assert not isinstance(opened, Rejected), opened
    ballot = opened.line.info.ballot
    assert ballot.status is BallotStatus.OPEN
    assert not ballot.rules.secret
    return ballot.id


async def count_casts(database_url: str) -> int:
    """Casts recorded (one audit row each, `vote.cast` or `vote.recast`)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT count(*) FROM audit_log WHERE action IN ('vote.cast', 'vote.recast')")
            )
            return int(found.scalar_one())
    finally:
        await engine.dispose()


# --- updates, as Telegram would post them -------------------------------------------------------


def _user(chat: int) -> JSON:
    first, last = rep_name(chat)
    return {"id": chat, "is_bot": False, "first_name": first, "last_name": last}


def _private(chat: int) -> JSON:
    return {"id": chat, "type": "private", "first_name": rep_name(chat)[0]}


def text_update(chat: int, text_: str) -> JSON:
    update_id = next(_update_ids)
    message: JSON = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": _private(chat),
        "from": _user(chat),
        "text": text_,
    }
    if text_.startswith("/"):
        length = len(text_.split(maxsplit=1)[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": update_id, "message": message}


def vote_update(chat: int, ballot_id: int, option: int) -> JSON:
    """The «Xác nhận» tap on the confirm message: cast `option` (0 agree, 1 disagree)."""
    update_id = next(_update_ids)
    data = f"vt:{ballot_id}:ok:{option}"
    confirm: JSON = {
        "message_id": 10_000 + chat % 1_000_000,
        "date": int(time.time()),
        "chat": _private(chat),
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Thi đua bench"},
        "text": "Xác nhận phiếu biểu quyết",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "✅ Xác nhận", "callback_data": data}],
                [{"text": "↩️ Quay lại", "callback_data": f"vt:{ballot_id}:back:0"}],
            ]
        },
    }
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": _user(chat),
            "message": confirm,
            "chat_instance": str(chat),
            "data": data,
        },
    }


# --- the processes under test ----------------------------------------------------------------


@dataclass
class Running:
    name: str
    procs: list[asyncio.subprocess.Process]  # what we started (the supervisor, or the copies)
    pids: list[int]  # the processes serving the webhook
    webhook: str
    log: Path


def _env(api: BotApi, files: Path, database_url: str, redis: bool, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM", "WEBHOOK", "BOT_", "ZALO", "REDIS", "DATABASE"))
    }
    env.update(
        TELEGRAM__TOKEN=TOKEN,
        TELEGRAM__API_URL=api.url,
        DATABASE_URL=database_url,
        WEBHOOK__URL=f"http://127.0.0.1:{port}/tg/webhook",
        WEBHOOK__SECRET=SECRET,
        WEBHOOK__LISTEN=f"127.0.0.1:{port}",
        BALLOT_SECRET=BALLOT_SECRET,
        AUDIT_KEY=AUDIT_KEY,
        FILES_DIR=str(files / "files"),
        KEYS_DIR=str(files / "keys"),
        ADMIN_IDS=f"telegram:{SECRETARY}",
        LOG_LEVEL="INFO",  # the shipped default: aiogram logs one line per handled update
    )
    if redis:
        env["REDIS_URL"] = REDIS_URL
    return env


async def start_bot(
    api: BotApi, tmp: Path, database_url: str, *, workers: int, redis: bool
) -> Running:
    """`python -m bot run` (one process) or `python -m bot run --workers N`."""
    port = free_port()
    log = tmp / f"bot-{port}.log"
    args = ["-m", "bot", "run"] + (["--workers", str(workers)] if workers > 1 else [])
    with log.open("wb") as out:  # a file, not a pipe nobody reads while it runs
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=ROOT,
            env=_env(api, tmp, database_url, redis, port),
            stdout=out,
            stderr=out,
        )
    running = Running("bot", [proc], [], f"http://127.0.0.1:{port}/tg/webhook", log)
    running.pids = await _ready(running, port, workers)
    return running


async def start_echo(api: BotApi, tmp: Path, *, workers: int) -> Running:
    """`workers` copies of bench/echo_bot.py sharing one port (SO_REUSEPORT when several)."""
    port = free_port()
    log = tmp / f"echo-{port}.log"
    procs = []
    with log.open("wb") as out:
        for _ in range(workers):
            args = [
                str(ROOT / "bench" / "echo_bot.py"),
                f"--api-url={api.url}",
                f"--token={TOKEN}",
                f"--listen=127.0.0.1:{port}",
                f"--secret={SECRET}",
            ] + (["--reuse-port"] if workers > 1 else [])
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable, *args, cwd=ROOT, stdout=out, stderr=out
                )
            )
    running = Running("echo", procs, [], f"http://127.0.0.1:{port}/tg/webhook", log)
    running.pids = await _ready(running, port, workers)
    return running


async def _ready(running: Running, port: int, workers: int, seconds: float = 90) -> list[int]:
    """/healthz until `workers` different processes have answered (a new connection each
    time: the kernel spreads connections over the processes sharing the port)."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.returncode is not None for p in running.procs):
            break
        with suppress(aiohttp.ClientError, OSError):
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/healthz") as reply,
            ):
                if reply.status == 200:
                    seen.add(int((await reply.json())["pid"]))
        if len(seen) >= workers:
            return sorted(seen)
        await asyncio.sleep(0.05)
    await stop(running)
    tail = running.log.read_text(encoding="utf-8", errors="replace")[-3000:]
    raise RuntimeError(f"{running.name} did not start ({len(seen)}/{workers} ready):\n{tail}")


async def stop(running: Running, grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds (the serving processes too: a bot still
    working through a backlog would keep the supervisor waiting for its own 30 s grace)."""
    for proc in running.procs:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in running.procs)), grace)
    except TimeoutError:
        for pid in running.pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in running.procs:
            if proc.returncode is None:
                proc.kill()
        await asyncio.gather(*(p.wait() for p in running.procs))


# --- measuring ---------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmRSS for pid {pid}")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time used so far by these processes."""
    total = 0
    for pid in pids:
        with suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


@dataclass
class CpuMeter:
    """CPU used during a window: the processes under test, this harness, the whole machine."""

    pids: Sequence[int]
    wall: float = 0.0
    bot_seconds: float = 0.0
    bot: float = 0.0
    harness: float = 0.0
    machine: float = 0.0
    _start: tuple[float, float, float, tuple[float, float]] = (0.0, 0.0, 0.0, (0.0, 0.0))

    def begin(self) -> None:
        self._start = (
            time.monotonic(),
            cpu_seconds(self.pids),
            time.process_time(),
            machine_busy(),
        )

    def end(self) -> None:
        wall0, bot0, own0, (busy0, total0) = self._start
        busy1, total1 = machine_busy()
        self.wall = time.monotonic() - wall0
        self.bot_seconds = cpu_seconds(self.pids) - bot0
        self.bot = self.bot_seconds / self.wall * 100
        self.harness = (time.process_time() - own0) / self.wall * 100
        self.machine = (busy1 - busy0) / max(1.0, total1 - total0) * 100


def percentile(samples: Sequence[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


@dataclass
class Result:
    offered: int = 0  # updates posted inside the window
    replies: int = 0  # replies received inside the window (closed loop) / for those updates
    errors: int = 0  # webhook answered other than 200, or the post failed
    timeouts: int = 0  # no reply within the timeout
    window: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    cpu: CpuMeter | None = None

    @property
    def rate(self) -> float:
        return self.replies / self.window if self.window else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


UpdateFor = Callable[[int, int], JSON]  # (chat, n-th update of this chat) -> update


class Driver:
    """Posts updates to a webhook and awaits the bot's reply for the same chat."""

    def __init__(self, api: BotApi, webhook: str, *, timeout: float = 15.0) -> None:
        self.api, self.webhook, self.timeout = api, webhook, timeout
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Driver:
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.http is not None:
            await self.http.close()

    async def one(self, chat: int, update: JSON, started: float | None = None) -> float:
        """Latency in ms from `started` (default: now) to the reply; raises on failure
        (aiohttp.ClientError: the webhook did not take it; TimeoutError: no reply)."""
        assert self.http is not None
        reply = self.api.expect(chat)
        t0 = time.perf_counter() if started is None else started
        try:
            async with self.http.post(self.webhook, json=update) as answer:
                if answer.status != 200:
                    raise aiohttp.ClientResponseError(
                        answer.request_info, (), status=answer.status
                    )
            arrived = await asyncio.wait_for(reply, self.timeout)
        except (aiohttp.ClientError, TimeoutError):
            self.api.forget(chat, reply)
            raise
        return (arrived - t0) * 1000

    async def closed_loop(
        self,
        chats: Sequence[int],
        make: UpdateFor,
        *,
        warmup: float,
        window: float,
        pids: Sequence[int],
    ) -> Result:
        """Every chat sends its next update as soon as the reply to the previous one came
        (or it gave up waiting); `replies` are those the fake received inside the window."""
        result = Result(cpu=CpuMeter(pids))
        loop = asyncio.get_running_loop()
        t_start = loop.time() + warmup
        t_end = t_start + window

        async def client(chat: int) -> None:
            for n in itertools.count():
                sent = loop.time()
                if sent >= t_end:
                    return
                try:
                    ms = await self.one(chat, make(chat, n))
                except aiohttp.ClientError:
                    result.errors += 1
                    await asyncio.sleep(0.05)
                    continue
                except TimeoutError:
                    result.timeouts += 1
                    if t_start <= loop.time() < t_end:
                        result.latencies_ms.append(self.timeout * 1000)  # at least that
                    continue
                if t_start <= loop.time() < t_end:
                    result.latencies_ms.append(ms)
                if t_start <= sent < t_end:
                    result.offered += 1

        async def meter() -> None:
            await asyncio.sleep(max(0.0, t_start - loop.time()))
            assert result.cpu is not None
            result.cpu.begin()
            replies = self.api.replies
            await asyncio.sleep(max(0.0, t_end - loop.time()))
            # Counted where they arrive: a reply after its client gave up still counts.
            result.replies = self.api.replies - replies
            result.cpu.end()

        await asyncio.gather(meter(), *(client(chat) for chat in chats))
        result.window = window
        return result

    async def open_loop(
        self,
        chats: Sequence[int],
        make: UpdateFor,
        *,
        rate: float,
        warmup: float,
        window: float,
        pids: Sequence[int],
        seed: int = 9,
    ) -> Result:
        """Updates arrive at `rate` per second in total (Poisson arrivals, the chats taken in
        turn), whether or not earlier ones were answered; latency counts from when an update
        was due, so a harness that falls behind shows up in the figures rather than hiding."""
        result = Result(cpu=CpuMeter(pids))
        rng = random.Random(seed)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        t_start, t_end = t0 + warmup, t0 + warmup + window
        counts = dict.fromkeys(chats, 0)
        tasks: list[asyncio.Task[None]] = []

        async def fire(chat: int, due: float, counted: bool) -> None:
            update = make(chat, counts[chat])
            counts[chat] += 1
            lag = loop.time() - due  # perf_counter and loop.time() are both monotonic
            try:
                ms = await self.one(chat, update, time.perf_counter() - lag)
            except aiohttp.ClientError:
                result.errors += counted
                return
            except TimeoutError:
                if counted:
                    result.timeouts += 1
                    result.latencies_ms.append(self.timeout * 1000)  # at least that
                return
            if counted:
                result.replies += 1
                result.latencies_ms.append(ms)

        due, metered = t0, False
        for chat in itertools.cycle(chats):
            due += rng.expovariate(rate)
            if due >= t_end:
                break
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not metered and due >= t_start:
                assert result.cpu is not None
                result.cpu.begin()
                metered = True
            counted = due >= t_start
            result.offered += counted
            tasks.append(asyncio.create_task(fire(chat, due, counted)))
        assert result.cpu is not None
        result.cpu.end()
        await asyncio.gather(*tasks)
        result.window = window
        return result
