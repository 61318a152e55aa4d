"""Start-up helpers that import no chat framework (so `migrate` and `audit verify` start fast)."""

from __future__ import annotations

import logging
import os
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, SettingsError
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


class OncePer(logging.Filter):
    """Lets through one record of a kind (its message starts with `prefix`) per `seconds`,
    without its traceback, saying how many were held back since; others pass untouched.
    Out of file descriptors, asyncio logs a traceback for every failed accept: gigabytes."""

    def __init__(self, prefix: str, seconds: float) -> None:
        super().__init__()
        self.prefix, self.seconds = prefix, seconds
        self.last = float("-inf")
        self.held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.getMessage().startswith(self.prefix):
            return True
        if record.created - self.last < self.seconds:
            self.held += 1
            return False
        reason = record.exc_info[1] if record.exc_info else None
        record.msg = f"{self.prefix}: {reason} ({self.held} more held back)"
        record.args, record.exc_info, record.exc_text = None, None, None
        self.last, self.held = record.created, 0
        return True


ACCEPT_FAILED = "socket.accept() out of system resource"


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
        secrets += url_passwords(url)
    # The part of a Telegram token after the colon is the secret half; redact it alone too.
    secrets += [s.split(":", 1)[1] for s in secrets if ":" in s]
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())  # the worker and the update being handled
    handler.addFilter(OncePer(ACCEPT_FAILED, 10.0))
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    if root.level > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)


def url_passwords(url: str) -> list[str]:
    """Every form in which a URL's password can reach a log line: as written (percent-encoded)
    and decoded, from the user part with or without a user (`redis://:pw@host`) or from a
    `password=` query parameter (redis-py reads one)."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    found = [userinfo.partition(":")[2]] if at else []
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        if unquote_plus(key).lower() == "password":
            found.append(value)
    return [form for raw in found for form in {raw, unquote(raw), unquote_plus(raw)} if form]


def hide_password(url: str) -> str:
    """The URL as an operator may see it: any password replaced by ***."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    netloc = f"{user}:***@{host}" if at and colon and password else parts.netloc
    query = "&".join(
        f"{key}=***" if unquote_plus(key).lower() == "password" and value else pair
        for pair in parts.query.split("&")
        for key, _, value in [pair.partition("=")]
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


async def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Engine plus migrations to head (once, under an advisory lock on PostgreSQL; skipped
    by workers, whose supervisor migrated before starting them)."""
    engine = create_engine(settings.database_url, application_name=application_name())
    try:
        async with engine.connect():
            pass
    except (OSError, SQLAlchemyError) as exc:  # TimeoutError is an OSError
        await engine.dispose()
        # One line for the operator, not the driver's traceback: which database, and why.
        raise SettingsError(
            f"cannot reach the database {hide_password(settings.database_url)}: {_why(exc)}"
        ) from None
    if migrate:
        await run_migrations(engine)
    return Database(engine)


def _why(exc: BaseException) -> str:
    """The driver's own reason, on one line (SQLAlchemy wraps it and appends a link)."""
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split()) or "no answer"
    return f"{type(cause).__name__}: {text}"


def application_name() -> str:
    """How this process names its PostgreSQL sessions (pg_stat_activity)."""
    worker = os.environ.get("THIDUA_WORKER", "")
    return f"thidua-bot-w{worker}" if worker else "thidua-bot"
