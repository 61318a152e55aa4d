"""Start-up helpers that import no chat framework (so `migrate` and `audit verify` start fast)."""

from __future__ import annotations

import logging
import os
import re

from bot.config import Settings
from bot.logcontext import ContextFilter
from storage.db import create_engine
from storage.migrate import migrate as run_migrations
from storage.uow import Database


class RedactingFormatter(logging.Formatter):
    """Tokens and secrets never reach a log line, even inside URLs or tracebacks."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def setup_logging(settings: Settings) -> None:
    secrets = [
        s.get_secret_value()
        for s in (
            settings.telegram.token,
            settings.zalo.token,
            settings.webhook.secret,
            settings.zalo.webhook_secret,
            settings.audit_key,
            settings.ballot_secret,
        )
        if s is not None
    ]
    for url in (settings.database_url, settings.redis_url or ""):
        password = re.search(r"://[^:/@]+:([^@]+)@", url)
        if password:
            secrets.append(password.group(1))
    # The part of a Telegram token after the colon is the secret half; redact it alone too.
    secrets += [s.split(":", 1)[1] for s in secrets if ":" in s]
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())  # the worker and the update being handled
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    if root.level > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)


async def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Engine plus migrations to head (once, under an advisory lock on PostgreSQL; skipped
    by workers, whose supervisor migrated before starting them)."""
    engine = create_engine(settings.database_url, application_name=application_name())
    if migrate:
        await run_migrations(engine)
    return Database(engine)


def application_name() -> str:
    """How this process names its PostgreSQL sessions (pg_stat_activity)."""
    worker = os.environ.get("THIDUA_WORKER", "")
    return f"thidua-bot-w{worker}" if worker else "thidua-bot"
