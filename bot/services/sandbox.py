"""Parsing untrusted files off the event loop, in a child process under a time and a memory
limit.

A thread would keep the loop free but not the process: a sheet that expands to gigabytes
would take the whole bot down with it, and a stuck parser cannot be stopped. So each parse
runs in its own short-lived process forked from a `forkserver` that has the parsers
(openpyxl, python-docx, PyYAML) imported once: a fork costs milliseconds, the child sets
`RLIMIT_AS` and `RLIMIT_CPU` on itself before touching the file, says it is ready, and is
killed when the wall-clock limit passes from then (its start-up is not the file's fault: a
busy machine starting the fork server must not refuse a ten-line CSV). The server starts on
the first parse, never at import, so an idle bot that is never sent a file pays nothing for
it. At most two parses run at once (each waited for in a thread of a small pool of our own,
not the loop's default executor).

multiprocessing prepares each child as it would a spawned one: a main module started as
`python -m bot` (or `-m pytest`) is not imported again, but a main *script* is run again
as `__mp_main__` in every child, so a script that calls `run_limited` must keep its work
under `if __name__ == "__main__":` and its top-level imports light.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import resource
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from bot.core.files import PARSE_MEMORY, PARSE_SECONDS

T = TypeVar("T")
# Imported once by the fork server, so each child starts with the parsers loaded.
PRELOAD = ["bot.services.scoring_files", "bot.services.tabular", "docx", "openpyxl", "yaml"]
CONCURRENT = 2
# How long a child may take to be ready (the first one also waits for the fork server to
# start and import PRELOAD: seconds on a busy machine) before the parse's own time limit.
STARTUP_SECONDS = 120.0

_pool: ThreadPoolExecutor | None = None


@dataclass(frozen=True, slots=True)
class OverLimit:
    """The parse was stopped: it ran past the time limit, or ran out of its memory."""

    what: str  # "time" | "memory"


async def run_limited(
    fn: Callable[..., T],
    *args: Any,
    seconds: float = PARSE_SECONDS,
    memory: int = PARSE_MEMORY,
) -> T | OverLimit:
    """`fn(*args)` in a child process; its result, or OverLimit. `fn` is a module-level
    function returning a value for every input (refusals are values)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(CONCURRENT, thread_name_prefix="parse")
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool, _run, fn, args, seconds, memory)


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _run(
    fn: Callable[..., T], args: tuple[Any, ...], seconds: float, memory: int
) -> T | OverLimit:
    context = _context()
    here, there = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(there, fn, args, seconds, memory), daemon=True)
    child.start()
    there.close()
    try:
        # The time limit is the parse's: it starts when the child is ready (a fork server
        # starting, or a machine busy with other work, must not refuse a small file).
        if not here.poll(STARTUP_SECONDS):
            raise RuntimeError(f"the parsing process did not start in {STARTUP_SECONDS} s")
        try:
            started, _ = here.recv()
            if started != "started":
                raise RuntimeError(f"the parsing process said {started!r} first")
            if not here.poll(seconds):
                return OverLimit("time")
            outcome, value = here.recv()
        except EOFError:  # killed: past RLIMIT_CPU, or the allocator gave up inside C code
            return OverLimit("memory")
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        here.close()
    if outcome == "over":
        return OverLimit(str(value))
    if outcome == "error":
        raise RuntimeError(f"parsing in the child process failed: {value}")
    result: T = value
    return result


def _child(
    conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], seconds: float, memory: int
) -> None:
    """In the child: the limits first, then the parse; the result (or why not) to the parent."""
    try:
        _limit(seconds, memory)
        conn.send(("started", None))
        reply: tuple[str, Any] = ("ok", fn(*args))
    except MemoryError:
        reply = ("over", "memory")
    except Exception as failed:  # a bug in a parser: reported, raised in the parent
        reply = ("error", repr(failed)[:500])
    try:
        conn.send(reply)
    except MemoryError:
        conn.send(("over", "memory"))
    conn.close()


def _limit(seconds: float, memory: int) -> None:
    """Address space: what the child has mapped already plus `memory`; CPU: `seconds`."""
    cpu = math.ceil(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mapped = 0
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        pass
    resource.setrlimit(resource.RLIMIT_AS, (mapped + memory, mapped + memory))
