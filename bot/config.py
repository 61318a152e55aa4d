"""One Settings object, nested sections with ``__``, secrets as SecretStr.

Built once in ``main()`` and passed down; nothing reads the environment elsewhere.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.models import Account, Platform

log = logging.getLogger(__name__)
_TELEGRAM_TOKEN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
# Values people leave in a copied .env; a bot must not start on them.
_PLACEHOLDERS = re.compile(
    r"(your|change.?me|placeholder|example|xxxx|<|>|token.?here|secret.?here|"
    r"^123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11$)",
    re.IGNORECASE,
)


class SettingsError(ValueError):
    """A setting is present but unusable; the message is one line for the operator."""


def _refuse_placeholder(name: str, value: SecretStr | None) -> None:
    if value is not None and _PLACEHOLDERS.search(value.get_secret_value()):
        raise SettingsError(f"{name} looks like a placeholder: put the real value in .env")


class TelegramSettings(BaseModel):
    token: SecretStr | None = None
    api_url: str | None = None

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        _refuse_placeholder("TELEGRAM__TOKEN", value)
        if not _TELEGRAM_TOKEN.match(value.get_secret_value()):
            raise SettingsError(
                "TELEGRAM__TOKEN is malformed: expected the bot's number (5 digits or more), "
                "a colon, then 30 or more of A-Z a-z 0-9 _ - (as @BotFather gives it)"
            )
        return value


class ZaloSettings(BaseModel):
    token: SecretStr | None = None
    api_url: str = "https://bot-api.zaloplatforms.com"
    webhook_secret: SecretStr | None = None
    # Messages the bot may send a month (the free plan's 3,000); 0: unlimited.
    monthly_quota: int = 3000
    # Public URL under which /zalo/charts/ is reachable (sendPhoto takes a URL): with it,
    # Zalo gets the standings chart as a photo; without it, the text table alone.
    files_url: str | None = None

    @field_validator("files_url")
    @classmethod
    def _files_url_shape(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value.strip()):
            raise SettingsError(
                "ZALO__FILES_URL must be an http(s) URL, e.g. https://bot.example.vn/zalo/charts"
            )
        return value.strip().rstrip("/")

    @field_validator("monthly_quota")
    @classmethod
    def _quota_shape(cls, value: int) -> int:
        if value < 0:
            raise SettingsError("ZALO__MONTHLY_QUOTA must be 0 (unlimited) or more")
        return value

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        _refuse_placeholder("ZALO__TOKEN", value)
        if re.search(r"\s", value.get_secret_value()) or len(value.get_secret_value()) < 20:
            raise SettingsError("ZALO__TOKEN is malformed: paste the whole token, no spaces")
        return value


class WebhookSettings(BaseModel):
    url: str | None = None
    secret: SecretStr | None = None
    listen: str = "127.0.0.1:8080"

    @field_validator("secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        _refuse_placeholder("WEBHOOK__SECRET", value)
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,256}", value.get_secret_value()):
            raise SettingsError("WEBHOOK__SECRET must be 8-256 characters of A-Z a-z 0-9 _ -")
        return value

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host or "127.0.0.1", int(port)


class WebSettings(BaseModel):
    """The web companion (`WEB__URL`: its public base, e.g. https://thidua.example.vn/web)."""

    url: str | None = None
    # Behind a reverse proxy: the client's address is the last X-Forwarded-For entry (for the
    # per-address limits); otherwise the connection's.
    behind_proxy: bool = False

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = urlparse(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError("WEB__URL must be an http(s) address, e.g. https://example.vn/web")
        if parsed.query or parsed.fragment:
            raise SettingsError("WEB__URL must not carry a query or a fragment")
        # The pages live under a path of their own beside the webhooks (default /web).
        path = parsed.path.rstrip("/") or "/web"
        return f"{parsed.scheme}://{parsed.netloc}{path}"


class DocsSettings(BaseModel):
    """PDF copies of the documents (`DOCS__SOFFICE`: LibreOffice's program, a path or a name on
    PATH; unset: `soffice` found on PATH; `off`: no PDFs)."""

    soffice: str | None = None
    # Seconds one conversion may take before it is stopped (the DOCX goes alone).
    pdf_timeout: int = 120

    @field_validator("pdf_timeout")
    @classmethod
    def _timeout_shape(cls, value: int) -> int:
        if not 5 <= value <= 900:
            raise SettingsError("DOCS__PDF_TIMEOUT must be between 5 and 900 seconds")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        populate_by_name=True,
    )

    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()
    webhook: WebhookSettings = WebhookSettings()
    web: WebSettings = WebSettings()
    docs: DocsSettings = DocsSettings()
    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    zalo_token: SecretStr | None = Field(default=None, alias="ZALO_TOKEN")
    database_url: str = "sqlite+aiosqlite:///./data/thidua.db"
    redis_url: str | None = None
    ballot_secret: SecretStr | None = None
    audit_key: SecretStr | None = None
    admin_ids: Annotated[list[str], NoDecode] = []
    files_dir: Path = Path("./data/files")
    keys_dir: Path = Path("./.keys")
    log_level: str = "INFO"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in re.split(r"[,\s]+", value) if v.strip()]
        return value

    @field_validator("admin_ids")
    @classmethod
    def _admin_shape(cls, value: list[str]) -> list[str]:
        for entry in value:
            platform, _, ident = entry.partition(":")
            if platform not in {p.value for p in Platform} or not ident:
                raise SettingsError(
                    f"ADMIN_IDS entry {entry!r} must look like telegram:123456 or zalo:abc"
                )
        return value

    @field_validator("audit_key", "ballot_secret")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        _refuse_placeholder("a secret", value)
        if len(value.get_secret_value()) < 16:
            raise SettingsError("AUDIT_KEY and BALLOT_SECRET need at least 16 characters")
        return value

    @model_validator(mode="after")
    def _aliases(self) -> Settings:
        # BOT_TOKEN and ZALO_TOKEN are the short spellings of the nested tokens.
        if self.telegram.token is None and self.bot_token is not None:
            self.telegram = TelegramSettings(token=self.bot_token, api_url=self.telegram.api_url)
        if self.zalo.token is None and self.zalo_token is not None:
            self.zalo = self.zalo.model_copy(
                update={"token": ZaloSettings(token=self.zalo_token).token}
            )
        return self

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        # Without a secret anyone who learns the URL could post updates as any user.
        if self.webhook.url and self.webhook.secret is None:
            raise SettingsError("WEBHOOK__SECRET is required when WEBHOOK__URL is set")
        return self

    @property
    def admins(self) -> frozenset[Account]:
        return frozenset(
            Account(Platform(e.partition(":")[0]), e.partition(":")[2]) for e in self.admin_ids
        )

    @property
    def has_token(self) -> bool:
        return self.telegram.token is not None or self.zalo.token is not None

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres", "postgresql"))


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and .env); raise SettingsError with a one-line reason."""
    try:
        return Settings(**overrides)
    except SettingsError:
        raise
    except ValueError as exc:
        first = _first_error(exc)
        raise SettingsError(first) from exc


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        for err in errors():
            ctx_error = err.get("ctx", {}).get("error")
            if isinstance(ctx_error, SettingsError):
                return str(ctx_error)
            loc = "__".join(str(p) for p in err.get("loc", ())).upper()
            return f"{loc}: {err.get('msg', 'invalid value')}"
    return str(exc).splitlines()[0]


def secret_key(settings: Settings, name: str) -> bytes:
    """AUDIT_KEY / BALLOT_SECRET as bytes.

    On PostgreSQL a missing secret refuses start. On SQLite the bot keeps a key file under
    KEYS_DIR (outside ./data/, mode 0600), so a copy of the data directory alone lacks it.
    A key file gets the environment's rule (at least 16 characters), is written whole or not
    at all, and is refused when other users may read it or its directory.
    """
    value: SecretStr | None = getattr(settings, name)
    if value is not None:
        return value.get_secret_value().encode()
    env_name = name.upper()
    if settings.is_postgres:
        raise SettingsError(f"{env_name} is required with PostgreSQL: set it in the environment")
    keys_dir = settings.keys_dir.absolute()
    path = keys_dir / f"{name}.key"
    try:
        if not keys_dir.exists():
            keys_dir.mkdir(parents=True, mode=0o700)
            keys_dir.chmod(0o700)  # whatever the umask
        _refuse_open_to_others(keys_dir, f"KEYS_DIR {keys_dir}", "700")
        made = not path.exists() and _write_key_file(path, secrets.token_urlsafe(48))
    except OSError as exc:
        raise SettingsError(f"cannot make the key file {path}: {exc.strerror}") from None
    if made:
        log.warning(
            "%s is not set: made a new key file %s (KEYS_DIR %s); back it up, the database "
            "cannot be read without it",
            env_name,
            path,
            keys_dir,
        )
    else:
        log.info("%s is not set: using the key file in KEYS_DIR %s", env_name, keys_dir)
    _refuse_open_to_others(path, f"key file {path}", "600")
    try:
        key = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"key file {path} cannot be read: {exc}") from None
    if len(key) < 16:
        # An empty file (a start killed while making it) would be a secret anyone knows.
        raise SettingsError(
            f"key file {path} is empty or shorter than 16 characters: restore it from a "
            "backup, or delete it to have a new one made (only if nothing was ever sealed or "
            "audited with it)"
        )
    return key.encode()


def _refuse_open_to_others(path: Path, what: str, mode: str) -> None:
    found = stat.S_IMODE(path.stat().st_mode)
    if found & 0o077:
        raise SettingsError(
            f"{what} is open to other users (mode {found:o}): run chmod {mode} {path}"
        )


def _write_key_file(path: Path, key: str) -> bool:
    """Write a temporary file, sync it, then link it into place: a crash leaves either no
    key file or a whole one. False when another process made the file first (its key
    counts)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            # A hard link never replaces a key file another process has just made.
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            os.rename(tmp, path)  # a file system without hard links
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the new name survives a power cut too
    finally:
        os.close(dir_fd)
    return True
