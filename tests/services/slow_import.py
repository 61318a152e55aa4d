"""A module that takes two seconds to import, so a child process that runs `quick` is slow to
be ready — as a child re-importing a script's modules is on a busy machine."""

from __future__ import annotations

import time

time.sleep(2.0)


def quick() -> str:
    return "quick"
