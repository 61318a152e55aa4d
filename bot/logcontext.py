"""What every log line carries besides its message: the update being handled (Telegram's
update id, or Zalo's message id) and, when several workers serve the bot, the worker.

`UPDATE` is set by the dispatcher's outer middleware and by the Zalo intake for the time an
update is handled; `ContextFilter` puts both into each record as `%(context)s`, e.g.
` [w1 u=812345]`, so one update can be followed across a worker's lines."""

from __future__ import annotations

import logging
import os
from contextvars import ContextVar

UPDATE: ContextVar[str] = ContextVar("update", default="")


class ContextFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        worker = os.environ.get("THIDUA_WORKER", "")
        self.worker = f"w{worker}" if worker else ""

    def filter(self, record: logging.LogRecord) -> bool:
        parts = [p for p in (self.worker, f"u={UPDATE.get()}" if UPDATE.get() else "") if p]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return True
