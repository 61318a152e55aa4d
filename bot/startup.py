"""Start-up helpers that import no chat framework (so `migrate` and `audit verify` start fast)."""

from __future__ import annotations

import logging
import re

from bot.config import Settings
from storage.db import create_engine
from storage.migrate import migrate
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
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    if root.level > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)


async def open_database(settings: Settings) -> Database:
    """Engine plus migrations to head (once, under an advisory lock on PostgreSQL)."""
    engine = create_engine(settings.database_url)
    await migrate(engine)
    return Database(engine)
