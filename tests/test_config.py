"""Settings refuse bad values with one line; logs never carry a token or a secret."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import Settings, SettingsError, load_settings, secret_key
from bot.startup import RedactingFormatter, hide_password, setup_logging

TOKEN = "5000000003:AAHconfCONFconf0confCONFconf0conf12"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in (
        "TELEGRAM__TOKEN",
        "BOT_TOKEN",
        "ZALO__TOKEN",
        "ZALO_TOKEN",
        "ADMIN_IDS",
        "DATABASE_URL",
        "AUDIT_KEY",
        "WEBHOOK__SECRET",
        "WEBHOOK__URL",
        "KEYS_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"BOT_TOKEN": "your-token-here"},
            "TELEGRAM__TOKEN looks like a placeholder: put the real value in .env",
        ),
        (
            {"TELEGRAM__TOKEN": "12345"},
            "TELEGRAM__TOKEN is malformed: expected the bot's number (5 digits or more), a colon,"
            " then 30 or more of A-Z a-z 0-9 _ - (as @BotFather gives it)",
        ),
        (
            {"ADMIN_IDS": "telegram:1,whatsapp:2"},
            "ADMIN_IDS entry 'whatsapp:2' must look like telegram:123456 or zalo:abc",
        ),
        (
            {"WEBHOOK__SECRET": "a b"},
            "WEBHOOK__SECRET must be 8-256 characters of A-Z a-z 0-9 _ -",
        ),
        ({"AUDIT_KEY": "short"}, "AUDIT_KEY and BALLOT_SECRET need at least 16 characters"),
        (
            {"WEBHOOK__URL": "https://bot.example.gov.vn/tg"},
            "WEBHOOK__SECRET is required when WEBHOOK__URL is set",
        ),
        ({"ZALO__MONTHLY_QUOTA": "-1"}, "ZALO__MONTHLY_QUOTA must be 0 (unlimited) or more"),
        (
            {"ZALO__FILES_URL": "bot.example.vn/charts"},
            "ZALO__FILES_URL must be an http(s) URL, e.g. https://bot.example.vn/zalo/charts",
        ),
    ],
)
def test_bad_settings_are_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value) == message


def test_aliases_and_nested_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("ADMIN_IDS", "telegram:1001, zalo:abc")
    monkeypatch.setenv("WEBHOOK__LISTEN", "0.0.0.0:9000")
    settings = load_settings()
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)
    assert [
        f"{a.platform.value}:{a.external_id}"
        for a in sorted(settings.admins, key=lambda a: a.platform.value)
    ] == ["telegram:1001", "zalo:abc"]
    assert settings.webhook.host_port == ("0.0.0.0", 9000)
    assert settings.zalo.monthly_quota == 3000  # the free plan's
    monkeypatch.setenv("ZALO__MONTHLY_QUOTA", "0")
    assert load_settings().zalo.monthly_quota == 0  # unlimited
    assert settings.zalo.files_url is None
    monkeypatch.setenv("ZALO__FILES_URL", "https://bot.example.vn/zalo/charts/")
    assert load_settings().zalo.files_url == "https://bot.example.vn/zalo/charts"


def test_sqlite_key_file_is_created_once_with_mode_0600(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KEYS_DIR", str(tmp_path / "keys"))
    settings = load_settings()
    first = secret_key(settings, "audit_key")
    assert secret_key(settings, "audit_key") == first
    path = tmp_path / "keys" / "audit_key.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 32


def _keys_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    keys.chmod(0o700)
    monkeypatch.setenv("KEYS_DIR", str(keys))
    return keys


@pytest.mark.parametrize("content", ["", "\n", "short-key-15chr"])
def test_an_empty_or_short_key_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str
) -> None:
    """A process killed between creating the key file and writing it left an empty file,
    which was then used as the secret: a database reader could open every sealed choice."""
    path = _keys_dir(tmp_path, monkeypatch) / "ballot_secret.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(SettingsError) as info:
        secret_key(load_settings(), "ballot_secret")
    assert str(info.value) == (
        f"key file {path} is empty or shorter than 16 characters: restore it from a backup, "
        "or delete it to have a new one made (only if nothing was ever sealed or audited "
        "with it)"
    )
    assert path.read_text() == content  # left for the operator to look at


def test_a_key_file_or_keys_dir_open_to_others_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keys = _keys_dir(tmp_path, monkeypatch)
    path = keys / "audit_key.key"
    path.write_text("a-key-file-that-is-long-enough-0123")
    path.chmod(0o644)
    with pytest.raises(SettingsError) as info:
        secret_key(load_settings(), "audit_key")
    assert str(info.value) == (
        f"key file {path} is open to other users (mode 644): run chmod 600 {path}"
    )
    path.chmod(0o600)
    keys.chmod(0o755)
    with pytest.raises(SettingsError) as info:
        secret_key(load_settings(), "audit_key")
    assert str(info.value) == (
        f"KEYS_DIR {keys} is open to other users (mode 755): run chmod 700 {keys}"
    )
    keys.chmod(0o700)
    assert secret_key(load_settings(), "audit_key") == b"a-key-file-that-is-long-enough-0123"


def test_a_key_file_is_written_whole_or_not_at_all(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Written to a temporary file, synced, then put in place: a crash while writing leaves
    no key file (the next start makes one), never an empty one."""
    keys = tmp_path / "relative" / "keys"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEYS_DIR", "relative/keys")
    settings = load_settings()

    def crash(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr("os.fsync", crash)
        with pytest.raises(SettingsError) as info:
            secret_key(settings, "ballot_secret")
    assert str(info.value) == (
        f"cannot make the key file {keys.resolve()}/ballot_secret.key: No space left on device"
    )
    assert sorted(p.name for p in keys.iterdir()) == []
    assert keys.stat().st_mode & 0o777 == 0o700

    with caplog.at_level(logging.INFO, logger="bot.config"):
        made = secret_key(settings, "ballot_secret")
        assert secret_key(settings, "ballot_secret") == made
    assert sorted(p.name for p in keys.iterdir()) == ["ballot_secret.key"]
    assert (keys / "ballot_secret.key").stat().st_mode & 0o777 == 0o600
    # Where the keys are, as an absolute path: a start from another directory would
    # otherwise make new keys unnoticed.
    assert [r.getMessage() for r in caplog.records] == [
        f"BALLOT_SECRET is not set: made a new key file {keys.resolve()}/ballot_secret.key "
        f"(KEYS_DIR {keys.resolve()}); back it up, the database cannot be read without it",
        f"BALLOT_SECRET is not set: using the key file in KEYS_DIR {keys.resolve()}",
    ]


def test_postgres_without_audit_key_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    with pytest.raises(SettingsError, match="AUDIT_KEY is required with PostgreSQL"):
        secret_key(load_settings(), "audit_key")


def test_logs_redact_tokens_even_in_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", [TOKEN, TOKEN.split(":")[1]])
    try:
        raise RuntimeError(f"GET https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError as exc:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s", (TOKEN,), None)
        record.exc_info = (type(exc), exc, exc.__traceback__)
        text = formatter.format(record)
    assert TOKEN.split(":")[1] not in text
    assert "token ***" in text
    assert "/bot***/getMe" in text


@pytest.mark.parametrize(
    ("setting", "url", "forms"),
    [
        # A password and no user: Redis's usual spelling (AUTH with a password only).
        ("REDIS_URL", "redis://:r3dis-Pass-word@cache.internal:6379/0", ["r3dis-Pass-word"]),
        # Percent-encoded: URLs quote it, drivers and error messages show it decoded.
        (
            "REDIS_URL",
            "redis://default:p%40ss%2Fw0rd%3Ax@cache.internal:6379/0",
            ["p%40ss%2Fw0rd%3Ax", "p@ss/w0rd:x"],
        ),
        ("REDIS_URL", "redis://cache.internal:6379/0?password=qu3ry-pass%21", ["qu3ry-pass%21",
                                                                                "qu3ry-pass!"]),
        (
            "DATABASE_URL",
            "postgresql://thidua:pg%23Pass%25word@db.internal/thidua",
            ["pg%23Pass%25word", "pg#Pass%word"],
        ),
        ("DATABASE_URL", "postgresql://:nouser-pg-pass@db.internal/thidua", ["nouser-pg-pass"]),
    ],
)  # fmt: skip
def test_logs_redact_url_passwords_in_every_form(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: str,
    url: str,
    forms: list[str],
) -> None:
    monkeypatch.setenv(setting, url)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # put back after the test
    monkeypatch.setattr(root, "level", root.level)
    setup_logging(load_settings())
    for form in forms:
        logging.getLogger("bot.test").warning("cannot connect to %s (password %s)", url, form)
    err = capsys.readouterr().err
    for form in forms:
        assert form not in err
    assert err.count("(password ***)") == len(forms)


def test_hidden_password_in_urls() -> None:
    assert hide_password("redis://:pw@cache:6379/0") == "redis://:***@cache:6379/0"
    assert hide_password("postgresql://u:p%40w@db/x") == "postgresql://u:***@db/x"
    assert hide_password("redis://cache/0?password=x&db=1") == "redis://cache/0?password=***&db=1"
    assert hide_password("postgresql://u@db/x") == "postgresql://u@db/x"


ROOT = Path(__file__).resolve().parents[1]


def _env_names() -> set[str]:
    """Every environment name Settings reads: nested sections with `__`, aliases as such."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            names |= {f"{name}__{sub}".upper() for sub in section.model_fields}
        elif field.alias is None:  # an alias is a short spelling of a nested name
            names.add(name.upper())
    return names


def test_env_example_lists_every_setting_and_loads(tmp_path: Path) -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    assert _env_names() - listed == set()
    assert listed - _env_names() == set()
    assert "Alias: BOT_TOKEN" in text
    assert "Alias: ZALO_TOKEN" in text
    # Copied as it is, it starts the demo; uncommented, its samples are accepted.
    (tmp_path / ".env").write_text(text, encoding="utf-8")
    assert not load_settings().has_token
    # (WEBHOOK__URL would need a secret: left out)
    samples = re.sub(r"^# ((?!WEBHOOK__URL)[A-Z][A-Z0-9_]*=\S+)$", r"\1", text, flags=re.MULTILINE)
    (tmp_path / ".env").write_text(samples, encoding="utf-8")
    assert load_settings().admin_ids == ["telegram:123456789"]


def test_the_docs_state_the_token_rule_the_code_checks() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(telegram={"token": "12345:short"})
    rule = str(refused.value).split("expected ")[1].split(" (as @BotFather")[0]
    configuration = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert rule in configuration
    assert rule in (ROOT / ".env.example").read_text(encoding="utf-8").replace("\n# ", " ")
    assert "export ADMIN_IDS=telegram:" in (ROOT / "docs" / "deploy.md").read_text(
        encoding="utf-8"
    )


def test_accept_failures_are_logged_once_per_ten_seconds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    setup_logging(load_settings())
    error = OSError(24, "Too many open files")
    for _ in range(1000):  # what asyncio logs for each accept() that fails for want of fds
        logging.getLogger("asyncio").error(
            "socket.accept() out of system resource\nsocket: <socket>", exc_info=error
        )
    logging.getLogger("asyncio").error("something else")
    err = capsys.readouterr().err
    assert err.count("socket.accept() out of system resource") == 1
    assert "[Errno 24] Too many open files (0 more held back)" in err
    assert "Traceback" not in err
    assert "something else" in err
