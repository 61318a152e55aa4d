"""Functions the sandbox tests run in a child process: a module of its own, importing only
the standard library, so the child loads it at once (the test module imports the bot)."""

from __future__ import annotations

import time


def sleeps(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


def allocates(size: int) -> int:
    return len(bytearray(size))
