"""Web companion benchmark (issues 18 and 19): server time of the ballot page, the self-score
page, a cast POST and the console's status table, at an offered 50 requests a second (open
loop), one worker, PostgreSQL; then the hall screens' fan-out.

    .venv/bin/python bench/web.py [--rps 50] [--seconds 20] [--units 40] [--screens 100]
                                  [--casts 10] [--only ballot,score,cast,console,screens]

A throwaway PostgreSQL database (BENCH_DATABASE_URL's server) gets one bloc of `--units`
units, one representative each, the conference with every unit checked in, the default
ballots with ballot 1 (approve the report: open, re-cast allowed) open, the example scoring
table and a report period. A child process (this script with `--child`) serves the web
companion exactly as the bot mounts it (one event loop: one worker), with one extra
middleware of the benchmark's that puts the server's own time for each request in a header.
This process signs every representative in through a real one-time link, then offers each
scenario at `--rps` requests a second on a fixed schedule (never waiting for answers),
rotating over the representatives, after a 2-second warm-up at the same rate that is not
counted:

- ballot:  GET /web/ballots/<id> (the ballot page with its candidates and the unit's vote);
- score:   GET /web/report (the report page: every criterion, the draft's values, totals);
- cast:    POST /web/ballots/<id>/cast (a real cast: each unit alternates its choice, so every
           POST writes the vote, its audit row and a notice check; it answers 303 to the
           ballot page, which a browser then loads: that GET is the ballot scenario's);
- console: GET /web/console/periods/<n> (the secretariat's status table of the period: every
           unit's status, three in four submitted, one returned).

Then the hall screens: `--screens` (100) screens hold the conference's event stream open in a
process of their own while units cast at `--casts` (10) a second; for each cast, the time from
its POST leaving to its event at every screen, and to every screen's part fetched after it
(what the hall sees), with `screens update_p99_ms=…` last. Targets: page p99 < 50 ms, screen
update p99 < 1 s.

It prints p50/p99 of the server time and of the time seen by the client, per scenario, and
the worker's CPU time per request (a figure a busy machine hardly changes, unlike the
latencies); then `web p99_ms=<worst server p99 of the four> rps=<offered>`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import unescape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/web.py`

import aiohttp
from aiohttp import web

from bench.harness import (
    AUDIT_KEY,
    BALLOT_SECRET,
    FIRST_REP,
    SECRETARY,
    CpuMeter,
    build_world,
    free_port,
    postgres_database,
    say,
)
from bot.core.models import Account, Platform
from bot.render import Renderer
from bot.runtime import settle_heap
from bot.services import hall, reports
from bot.services.actors import Actor, load_actor, resolve_actor
from bot.services.app import Services
from bot.services.clock import SystemClock
from bot.services.outcomes import Rejected
from bot.services.web import issue_signin
from handlers.web.app import mount_web
from handlers.web.base import WebConfig
from storage.db import create_engine
from storage.files import FileStore
from storage.uow import Database

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "templates" / "scoring-table-example.yaml"
SERVER_MS = "X-Bench-Server-Ms"
WARMUP = 2.0  # seconds of each scenario before the timing starts
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_HELD = re.compile(r'name="held" value="([^"]+)"')
_CHOICE = re.compile(r'name="choice"[^>]*value="(\d+)"')


def _services(database_url: str, files: Path, web_url: str) -> Services:
    return Services(
        db=Database(create_engine(database_url)),
        clock=SystemClock(),
        renderer=Renderer(),
        audit_key=AUDIT_KEY.encode(),
        ballot_secret=BALLOT_SECRET.encode(),
        files=FileStore(files),
        admins=frozenset({Account(Platform.TELEGRAM, str(SECRETARY))}),
        web_url=web_url,
    )


# --- the child: the web companion, one worker ------------------------------------------------


@web.middleware
async def _timed(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    start = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as answer:  # a redirect (a cast's 303) is raised
        answer.headers[SERVER_MS] = f"{(time.perf_counter() - start) * 1000:.3f}"
        raise
    response.headers[SERVER_MS] = f"{(time.perf_counter() - start) * 1000:.3f}"
    return response


async def child(database_url: str, port: int, files: Path) -> None:
    base = f"http://127.0.0.1:{port}/web"
    services = _services(database_url, files, base)
    root = web.Application(middlewares=[_timed])
    mount_web(root, services, WebConfig(base))
    runner = web.AppRunner(root, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    settle_heap()  # as the bot does before serving
    say("ready")
    await asyncio.Event().wait()


# --- the hall screens: a process of their own -------------------------------------------------


async def screens_child(link: str, count: int) -> None:
    """`count` hall screens, each as the page's script behaves: the event stream open, and on
    each `update` its changing part fetched again (one fetch at a time, a later event while one
    runs fetching once more after it). Prints `ready` once every stream listens; when stdin
    closes, one JSON line: per screen, the events' arrival times and each fetch's (start, end),
    on the machine's monotonic clock (the parent's is the same)."""
    events: list[list[float]] = [[] for _ in range(count)]
    fetches: list[list[tuple[float, float]]] = [[] for _ in range(count)]
    listening = 0
    all_listening = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    http = aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0, force_close=False)
    )

    async def screen(i: int) -> None:
        nonlocal listening
        busy, again = False, False

        async def refresh(url: str) -> None:
            nonlocal busy, again
            if busy:
                again = True
                return
            busy = True
            try:
                while True:
                    again = False
                    start = time.monotonic()
                    async with http.get(url) as r:
                        await r.read()
                        assert r.status == 200, r.status
                    fetches[i].append((start, time.monotonic()))
                    if not again:
                        break
            finally:
                busy = False

        async with http.get(link + "/events") as stream:
            assert stream.status == 200, stream.status
            kind = ""
            async for raw in stream.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("retry:"):
                    listening += 1
                    if listening == count:
                        all_listening.set()
                elif line.startswith("event: "):
                    kind = line[len("event: ") :]
                elif line.startswith("data: ") and kind == "update":
                    events[i].append(time.monotonic())
                    data = json.loads(line[len("data: ") :])
                    url = link + "/live" + (f"?v={data['v']}" if "v" in data else "")
                    asyncio.get_running_loop().create_task(refresh(url))

    tasks = [asyncio.create_task(screen(i)) for i in range(count)]
    await asyncio.wait_for(all_listening.wait(), 60)
    say("ready")
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await asyncio.sleep(2.0)  # the last casts' fetches
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await http.close()
    say(json.dumps({"events": events, "fetches": fetches}))


async def _fan_out(
    link: str,
    count: int,
    casts_per_s: float,
    seconds: float,
    cast: Callable[[int], Awaitable[aiohttp.ClientResponse]],
    worker: int,
) -> None:
    """Casts at `casts_per_s` while `count` screens are open: for every cast, the time from the
    moment its POST left to its event at each screen, and to each screen's part fetched after
    that event (what the hall sees). The POST leaves before the commit, so both are upper
    bounds. The first two seconds warm up and are not counted."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--screens",
        link,
        str(count),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 26,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    line = await proc.stdout.readline()
    assert line.strip() == b"ready", line
    sent: list[float] = []
    cast_ms: list[float] = []

    async def one(i: int) -> None:
        start = time.monotonic()
        sent.append(start)
        async with await cast(i) as response:
            await response.read()
            assert response.status < 400, response.status
        cast_ms.append((time.monotonic() - start) * 1000)

    meter = CpuMeter([worker])
    meter.begin()
    begin = time.monotonic()
    tasks = []
    total = int(casts_per_s * (seconds + WARMUP))
    for i in range(total):
        delay = begin + i / casts_per_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
        await asyncio.sleep(0)  # its POST leaves now, in the order of `sent`
    await asyncio.gather(*tasks)
    meter.end()
    proc.stdin.close()
    found = json.loads((await proc.stdout.readline()).decode())
    await proc.wait()
    counted = [k for k, t in enumerate(sent) if t - begin >= WARMUP]
    to_event: list[float] = []
    to_part: list[float] = []
    missed = 0
    for events, fetches in zip(found["events"], found["fetches"], strict=True):
        if len(events) != len(sent):  # the k-th event is the k-th cast's (one at a time)
            missed += abs(len(sent) - len(events))
            continue
        for k in counted:
            to_event.append((events[k] - sent[k]) * 1000)
            after = [end for start, end in fetches if start >= events[k]]
            if after:
                to_part.append((min(after) - sent[k]) * 1000)
            else:
                missed += 1
    say(
        f"screens n={count} casts={len(counted)} at {casts_per_s:g}/s: cast → event at every "
        f"screen p50={_pct(to_event, 0.5):.0f} ms p99={_pct(to_event, 0.99):.0f} ms; "
        f"cast → its part shown p50={_pct(to_part, 0.5):.0f} ms "
        f"p99={_pct(to_part, 0.99):.0f} ms; the cast itself p50={_pct(cast_ms, 0.5):.1f} ms "
        f"p99={_pct(cast_ms, 0.99):.1f} ms; missed {missed}; worker "
        f"{meter.bot:.0f}% of a core, machine {meter.machine:.0f}% busy"
    )
    say(f"screens update_p99_ms={_pct(to_part, 0.99):.0f} event_p99_ms={_pct(to_event, 0.99):.0f}")


# --- the parent: the world, the sign-ins, the load ---------------------------------------------


@dataclass(frozen=True)
class Setup:
    links: list[str]  # one sign-in link per representative
    secretary: str  # the secretary's sign-in link
    screen: str  # the hall screen's link
    period: int  # the period's number in the console's URLs


async def _period(database_url: str, files: Path, web_url: str, n: int) -> Setup:
    """The scoring table and a report period in which three units in four have submitted
    (one of them returned for a correction); one sign-in link per representative and one for
    the secretary; the conference's hall screen link."""
    services = _services(database_url, files, web_url)
    try:
        secretary = await resolve_actor(
            services,
            platform=Platform.TELEGRAM,
            external_id=str(SECRETARY),
            display_name="Thư ký 1",
            username=None,
        )
        table = await reports.import_table(
            services, secretary, filename="bang.yaml", data=TABLE.read_bytes()
        )
        assert isinstance(table, reports.TableImported), table
        year = services.clock.now().year
        opened = await reports.open_period(
            services,
            secretary,
            kind_text="tổng kết",
            title=f"Báo cáo tổng kết năm {year}",
            deadline_text=f"31/12/{year} 17:00",
        )
        assert not isinstance(opened, Rejected), opened
        reps = []
        for i in range(n):
            async with services.db.uow() as uow:
                reps.append(
                    await load_actor(uow, services, Account(Platform.TELEGRAM, str(FIRST_REP + i)))
                )
        for actor in reps[: n * 3 // 4]:
            await _submit(services, actor)
        returned = await reports.return_report(
            services,
            secretary,
            unit_ref="DV001",
            until_text=f"30/12/{year} 17:00",
            comment="Bổ sung số liệu mục 2.",
        )
        assert not isinstance(returned, Rejected), returned
        links = []
        for actor in [*reps, secretary]:
            issued = await issue_signin(services, actor)
            assert issued is not None
            links.append(issued.url)
        screen = await hall.issue_screen(services, secretary)
        assert isinstance(screen, hall.ScreenIssued), screen
        periods = await reports.list_periods(services, secretary)
        assert not isinstance(periods, Rejected), periods
        return Setup(links[:-1], links[-1], screen.url, periods[-1].number)
    finally:
        await services.db.dispose()


async def _submit(services: Services, actor: Actor) -> None:
    """A unit's report submitted through the services: a file and every item scored."""
    step = await reports.start_report(services, actor, unit_ref="")
    assert isinstance(step, reports.AskFile), step
    draft = step.ctx.draft.id
    attached = await reports.attach_file(
        services, actor, draft_id=draft, filename="bao-cao.pdf", data=b"%PDF-1.7 bao cao\n"
    )
    assert isinstance(attached, reports.AskItem), attached
    async with services.db.uow() as uow:
        for item in step.ctx.table.items:
            await uow.reports.set_draft_value(draft, item.code, 1, services.clock.now())
        await uow.commit()
    done = await reports.confirm(services, actor, draft_id=draft)
    assert isinstance(done, reports.Receipt), done


async def _sign_in(link: str) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(link) as page:
        csrf = _CSRF.search(await page.text())
    assert csrf is not None
    token = link.rsplit("/", 1)[1]
    base = link.split("/signin/")[0]
    async with session.post(f"{base}/signin", data={"csrf": csrf.group(1), "token": token}) as r:
        assert r.status == 200, await r.text()
    return session


async def _held(session: aiohttp.ClientSession, base: str, ballot: int) -> list[tuple[str, str]]:
    """(csrf, held) for each of the ballot's choices, from its confirm page."""
    async with session.get(f"{base}/ballots/{ballot}") as page:
        html = await page.text()
    csrf = _CSRF.search(html)
    assert csrf is not None, html[:2000]
    held = []
    for index in sorted(set(_CHOICE.findall(html)))[:2]:
        data = {"csrf": csrf.group(1), "choice": index}
        async with session.post(f"{base}/ballots/{ballot}/preview", data=data) as r:
            found = _HELD.search(await r.text())
        assert found is not None
        held.append((csrf.group(1), unescape(found.group(1))))
    return held


Request = Callable[[int], Awaitable[aiohttp.ClientResponse]]


async def _offer(rps: float, seconds: float, request: Request) -> tuple[list[float], list[float]]:
    """Open loop: request i leaves at start + i / rps whatever the answers; returns the
    server's times and the client's, in milliseconds."""
    server: list[float] = []
    client: list[float] = []
    errors = 0

    async def one(i: int) -> None:
        nonlocal errors
        sent = time.perf_counter()
        async with await request(i) as response:
            await response.read()
            if response.status >= 400:
                errors += 1
                if errors == 1:
                    body = (await response.text())[:3000]
                    say(f"first failure: HTTP {response.status} {response.url}\n{body}")
            client.append((time.perf_counter() - sent) * 1000)
            server.append(float(response.headers.get(SERVER_MS, "nan")))

    start = time.perf_counter()
    tasks = []
    for i in range(int(rps * seconds)):
        delay = start + i / rps - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    assert errors == 0, f"{errors} requests failed"
    return server, client


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(
    rps: float, seconds: float, n: int, screens: int, casts_per_s: float, only: set[str]
) -> None:
    async with postgres_database() as url:
        with tempfile.TemporaryDirectory(prefix="thidua-bench-web-") as tmp:
            files = Path(tmp) / "files"
            world = await build_world(url, n, files, units=n)
            ballot = next(iter(world.ballots.values()))
            port = free_port()
            base = f"http://127.0.0.1:{port}/web"
            setup = await _period(url, files, base, n)
            links = setup.links
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--child",
                url,
                str(port),
                str(files),
                stdout=asyncio.subprocess.PIPE,
            )
            sessions: list[aiohttp.ClientSession] = []
            try:
                assert proc.stdout is not None
                line = await proc.stdout.readline()
                assert line.strip() == b"ready", line
                sessions += [await _sign_in(link) for link in links]
                held = [await _held(s, base, ballot) for s in sessions]
                for s in sessions:  # each unit's draft exists before the timing starts
                    async with s.get(f"{base}/report") as r:
                        assert r.status == 200
                say(f"web: {n} representatives signed in; {rps:g} requests/s for {seconds:g} s")
                turns = [0] * n

                def ballot_page(i: int) -> Awaitable[aiohttp.ClientResponse]:
                    return sessions[i % n].get(f"{base}/ballots/{ballot}")

                def score_page(i: int) -> Awaitable[aiohttp.ClientResponse]:
                    return sessions[i % n].get(f"{base}/report")

                def cast(i: int) -> Awaitable[aiohttp.ClientResponse]:
                    who = i % n
                    turns[who] += 1
                    csrf, token = held[who][turns[who] % len(held[who])]
                    return sessions[who].post(
                        f"{base}/ballots/{ballot}/cast",
                        data={"csrf": csrf, "held": token},
                        # The POST itself: the page it redirects to is the ballot scenario's.
                        allow_redirects=False,
                    )

                secretary = await _sign_in(setup.secretary)
                sessions.append(secretary)
                status_url = f"{base}/console/periods/{setup.period}"
                async with secretary.get(status_url) as r:
                    assert r.status == 200, await r.text()

                def console_page(_: int) -> Awaitable[aiohttp.ClientResponse]:
                    return secretary.get(status_url)

                worst = 0.0
                for name, request in (
                    ("ballot", ballot_page),
                    ("score", score_page),
                    ("cast", cast),
                    ("console", console_page),
                ):
                    if only and name not in only:
                        continue
                    await _offer(rps, WARMUP, request)  # not counted
                    if os.environ.get("BENCH_WEB_PROFILE"):
                        proc.send_signal(signal.SIGUSR1)  # the child's profile starts here
                    meter = CpuMeter([proc.pid])
                    meter.begin()
                    server, client = await _offer(rps, seconds, request)
                    meter.end()
                    cpu_ms = meter.bot_seconds * 1000 / len(server)
                    p50, p99 = _pct(server, 0.5), _pct(server, 0.99)
                    worst = max(worst, p99)
                    say(
                        f"{name:7s} n={len(server)} server p50={p50:.1f} ms p99={p99:.1f} ms "
                        f"(client p50={_pct(client, 0.5):.1f} p99={_pct(client, 0.99):.1f}; "
                        f"mean server {statistics.fmean(server):.1f} ms; worker CPU "
                        f"{cpu_ms:.1f} ms a request, {meter.bot:.0f}% of a core; "
                        f"machine {meter.machine:.0f}% busy)"
                    )
                say(f"web p99_ms={worst:.1f} rps={rps:g}")
                if screens and (not only or "screens" in only):
                    await _fan_out(setup.screen, screens, casts_per_s, seconds, cast, proc.pid)
            finally:
                for s in sessions:
                    await s.close()
                proc.terminate()
                await proc.wait()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--screens":
        asyncio.run(screens_child(sys.argv[2], int(sys.argv[3])))
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        profile = os.environ.get("BENCH_WEB_PROFILE")  # a file: the child's cProfile stats
        if profile:
            import cProfile

            profiler = cProfile.Profile()

            def dump(*_: object, path: str = profile) -> None:
                profiler.disable()
                profiler.dump_stats(path)
                sys.exit(0)

            signal.signal(signal.SIGTERM, dump)
            # From the first timed scenario on (the parent's SIGUSR1), not the sign-ins.
            signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
        asyncio.run(child(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rps", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--screens", type=int, default=100, help="hall screens open (0: none)")
    parser.add_argument("--casts", type=float, default=10.0, help="casts a second to the screens")
    parser.add_argument(
        "--only", default="", help="comma-separated: ballot,score,cast,console,screens"
    )
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}
    asyncio.run(main(args.rps, args.seconds, args.units, args.screens, args.casts, only))
