"""Settings refuse bad values with one line; logs never carry a token or a secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings, secret_key
from bot.startup import RedactingFormatter

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
            "TELEGRAM__TOKEN is malformed: expected <digits>:<35 characters> from @BotFather",
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
