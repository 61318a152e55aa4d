"""`python -m bot run --workers N`: the production profile (design decision 11).

The supervisor migrates the database once, then starts N worker processes (`python -m bot
run` with `THIDUA_WORKER=i`). They share `WEBHOOK__LISTEN` (SO_REUSEPORT: the kernel spreads
connections), PostgreSQL (the tick under its advisory lock, the outbox claimed with SKIP
LOCKED) and Redis (conversation state, the rate budget, the ledger of handled updates).
Worker 0 sets the webhooks and the menus. A worker that dies is started again (after a
second; at most five times a minute, else everything stops and the exit status is 1, for
systemd or the orchestrator); SIGTERM/SIGINT stop them all (SIGTERM, then SIGKILL after 30 s).
"""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import IO

from bot.config import Settings, SettingsError
from storage.db import is_sqlite, normalise_url

log = logging.getLogger("bot.supervisor")
RESTARTS_PER_MINUTE = 5
STOP_GRACE = 30.0


def check(settings: Settings, workers: int) -> None:
    """Several workers need what they share: refused in one line otherwise."""
    if workers < 1 or workers > 64:
        raise SettingsError("--workers must be between 1 and 64")
    missing = []
    if not settings.webhook.url:
        missing.append("WEBHOOK__URL (workers share one webhook)")
    if not settings.redis_url:
        missing.append("REDIS_URL (conversation state and handled updates are shared)")
    if is_sqlite(normalise_url(settings.database_url)):
        missing.append("a PostgreSQL DATABASE_URL (SQLite has one writer)")
    if missing:
        raise SettingsError(f"--workers {workers} needs " + "; ".join(missing))


def lock_path(listen: str) -> Path:
    """The lock file of the deployment listening on `listen` (one per address)."""
    name = listen.replace(":", "-").replace("/", "_").replace("[", "").replace("]", "")
    return Path(tempfile.gettempdir()) / f"thidua-bot-{name}.lock"


def hold_lock(listen: str) -> IO[str]:
    """One supervisor per deployment: a second one would share the port (SO_REUSEPORT) and
    silently take part of the traffic. The lock goes with this process (even SIGKILL); the
    open file must stay referenced for as long as the supervisor runs."""
    path = lock_path(listen)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise SettingsError(
            f"another supervisor (pid {holder}) already serves {listen} ({path}): "
            "stop it first, or set another WEBHOOK__LISTEN"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def supervise(settings: Settings, workers: int) -> int:
    check(settings, workers)
    lock = hold_lock(settings.webhook.listen)
    from bot.__main__ import _preflight

    # A configuration error is found here once, not by every worker in a restart loop.
    if asyncio.run(_preflight(settings)) != 0:
        return 1
    stopping = failed = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        log.info("signal %d: stopping %d workers", signum, workers)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    procs: dict[int, subprocess.Popen[bytes]] = {i: _start(i) for i in range(workers)}
    restarts: dict[int, list[float]] = {i: [] for i in range(workers)}
    log.info("%d workers started: %s", workers, ", ".join(str(p.pid) for p in procs.values()))
    while not stopping:
        time.sleep(0.2)
        for index, proc in list(procs.items()):
            code = proc.poll()
            if code is None or stopping:
                continue
            now = time.monotonic()
            recent = [t for t in restarts[index] if now - t < 60]
            if len(recent) >= RESTARTS_PER_MINUTE:
                log.error("worker %d keeps dying (exit %s): stopping", index, code)
                stopping = failed = True
                break
            log.warning(
                "worker %d (pid %d) exited with %s: starting it again", index, proc.pid, code
            )
            time.sleep(1.0)
            restarts[index] = [*recent, now]
            procs[index] = _start(index)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.info("workers stopped")
    lock.close()
    return 1 if failed else 0


def _start(index: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "THIDUA_WORKER": str(index), SUPERVISOR_ENV: str(os.getpid())}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, preexec_fn=_die_with_parent
    )


SUPERVISOR_ENV = "THIDUA_SUPERVISOR"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the worker, before exec: SIGTERM when the supervisor dies (Linux), so orphans of a
    killed supervisor do not keep serving beside the next one's workers. Elsewhere the worker
    watches its parent (`watch_supervisor`)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


async def watch_supervisor() -> None:
    """A worker whose supervisor is gone (its parent changed) stops as on SIGTERM; this also
    covers a supervisor that died before `_die_with_parent` took effect."""
    supervisor = os.environ.get(SUPERVISOR_ENV, "")
    if not supervisor.isdecimal():
        return
    while True:
        await asyncio.sleep(1.0)
        if os.getppid() != int(supervisor):
            break
    log.warning("supervisor (pid %s) is gone: stopping", supervisor)
    os.kill(os.getpid(), signal.SIGTERM)
