"""The documentation stays true: every setting documented, every relative link leads to a
file (and a heading) that exists, and the Compose file is valid with what it must have."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def setting_names() -> set[str]:
    """Every environment name Settings reads (nested with `__`), and the short aliases."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            names |= {f"{name}__{sub}".upper() for sub in section.model_fields}
        else:
            names.add(field.alias or name.upper())
    return names


def test_every_setting_is_in_the_configuration_guide_and_the_example() -> None:
    guide = (DOCS / "configuration.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = setting_names()
    assert {"TELEGRAM__TOKEN", "BOT_TOKEN", "ZALO__MONTHLY_QUOTA", "WEB__URL"} <= names
    assert sorted(n for n in names if f"`{n}`" not in guide) == []
    assert sorted(n for n in names if not re.search(rf"\b{n}\b", example)) == []


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    broken: list[str] = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        found = (page.parent / path).resolve() if path else page
        if not found.exists():
            broken.append(f"{target}: no such file")
        elif anchor and found.suffix == ".md" and anchor not in anchors(found):
            broken.append(f"{target}: no such heading")
    assert broken == []


def test_the_docs_name_every_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in [*DOCS.rglob("*.md"), ROOT / "ARCHITECTURE.md"]:
        assert f"({page.relative_to(ROOT).as_posix()})" in readme, page


# --- the Compose file --------------------------------------------------------------------


def compose_works() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
    )
    return probe.returncode == 0


def test_the_compose_file_is_valid(tmp_path: Path) -> None:
    if compose_works():
        env_file = tmp_path / "thidua.env"
        env_file.write_text("POSTGRES_PASSWORD=x\nREDIS_PASSWORD=y\n", encoding="utf-8")
        done = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "THIDUA_ENV_FILE": str(env_file)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    # Whether or not docker is here: what the file must hold.
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"bot", "db", "redis"}
    for name, service in services.items():
        # Secrets only from the env file, whose default lives outside the checkout.
        assert service["env_file"] == ["${THIDUA_ENV_FILE:-/etc/thidua-bot/thidua.env}"], name
        for key in service.get("environment", {}):
            assert not re.search(r"TOKEN|SECRET|KEY$|PASSWORD", key), (name, key)
    bot = services["bot"]
    assert (COMPOSE.parent / bot["build"]["context"] / bot["build"]["dockerfile"]).exists()
    assert bot["command"][:4] == ["python", "-m", "bot", "run"]
    assert bot["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert bot["ports"] == ["127.0.0.1:8080:8080"]
    assert bot["environment"]["WEBHOOK__LISTEN"] == "0.0.0.0:8080"
    # Files and keys on volumes from outside the checkout, where the settings point.
    mounts = dict(v.rsplit(":", 1)[::-1] for v in bot["volumes"])
    for setting in ("FILES_DIR", "KEYS_DIR"):
        source = mounts[bot["environment"][setting]]
        assert source.startswith("${THIDUA_DATA:-/var/lib/thidua-bot}/"), source
    # The database on a named volume; its health checked before the bot starts.
    assert services["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert "pgdata" in compose["volumes"]
    assert services["db"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "healthcheck" in services["redis"]


def test_the_dockerfile_copies_what_exists_and_no_secret() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    copied = [
        source
        for line in re.findall(r"^COPY (.+)$", dockerfile, re.M)
        for source in line.split()[:-1]
    ]
    assert copied
    assert [s for s in copied if not (ROOT / s).exists()] == []
    assert not [s for s in copied if s.startswith((".env", ".keys", "data"))]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".keys", "data"} <= set(ignored)


def test_the_systemd_unit_reads_the_env_file_and_writes_outside_the_checkout() -> None:
    unit = (ROOT / "deploy" / "thidua-bot.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if re.match(r"^[A-Z]\w*=", line)
    )
    assert settings["EnvironmentFile"] == "/etc/thidua-bot/thidua.env"
    assert settings["ExecStart"].endswith("python -m bot run --workers 2")
    assert settings["ProtectSystem"] == "strict"
    assert settings["ReadWritePaths"].split() == ["/var/lib/thidua-bot", "/tmp"]
    assert settings["KillMode"] == "mixed"
