"""The documentation stays true: every setting documented, every relative link leads to a
file (and a heading) that exists, and the Compose file is valid with what it must have."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
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
#
# With a Docker daemon (`docker info` succeeds) and the compose plugin, the stack is built,
# started and its /healthz asked; with the compose plugin only, `docker compose config -q`;
# with neither, the structural checks below stand alone (the Compose specification's JSON
# schema would need `jsonschema`, which the lock file does not hold). The structural checks
# run in every case.

# The Compose specification's top-level and service properties (compose-spec.json).
TOP_LEVEL = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs"}
SERVICE_KEYS = {
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup",
    "cgroup_parent", "command", "configs", "container_name", "cpu_count", "cpu_percent",
    "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus",
    "cpuset", "credential_spec", "depends_on", "deploy", "develop", "device_cgroup_rules",
    "devices", "dns", "dns_opt", "dns_search", "domainname", "entrypoint", "env_file",
    "environment", "expose", "extends", "external_links", "extra_hosts", "gpus", "group_add",
    "healthcheck", "hostname", "image", "init", "ipc", "isolation", "labels", "links",
    "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness",
    "memswap_limit", "network_mode", "networks", "oom_kill_disable", "oom_score_adj", "pid",
    "pids_limit", "platform", "ports", "post_start", "pre_stop", "privileged", "profiles",
    "pull_policy", "read_only", "restart", "runtime", "scale", "secrets", "security_opt",
    "shm_size", "stdin_open", "stop_grace_period", "stop_signal", "storage_opt", "sysctls",
    "tmpfs", "tty", "ulimits", "user", "userns_mode", "uts", "volumes", "volumes_from",
    "working_dir",
}  # fmt: skip
DURATION = re.compile(r"^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$")
ENV_PATH = "${THIDUA_ENV_FILE:-/etc/thidua-bot/thidua.env}"
DATA = "${THIDUA_DATA:-/var/lib/thidua-bot}"
# Where docker finds its daemon and its plugins; nothing else of the caller's environment
# (the Compose file's ${…} must come from the test).
DOCKER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin"} | {
    k: v
    for k, v in os.environ.items()
    if k in {"HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT"}
}


def docker(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], env=DOCKER_ENV | env, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def docker_daemon() -> bool:
    """A Docker daemon answers (the CLI alone is not enough to start the stack)."""
    return shutil.which("docker") is not None and docker("info", timeout=30).returncode == 0


def compose_plugin() -> bool:
    return shutil.which("docker") is not None and docker("compose", "version").returncode == 0


def check_the_compose_structure(compose: dict[str, Any]) -> None:
    """What the Compose specification allows, and what the deployment guide relies on."""
    assert set(compose) <= TOP_LEVEL, set(compose) - TOP_LEVEL
    services: dict[str, dict[str, Any]] = compose["services"]
    assert set(services) == {"bot", "db", "redis"}
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, (name, set(service) - SERVICE_KEYS)
        assert "image" in service or "build" in service, name
        assert service.get("restart") == "unless-stopped", name
        # Secrets only from the env file, whose default lives outside the checkout.
        assert service["env_file"] == [ENV_PATH], name
        for key in service.get("environment", {}):
            assert not re.search(r"TOKEN|SECRET|KEY$|PASSWORD", key), (name, key)
        for target, needs in service.get("depends_on", {}).items():
            assert target in services, (name, target)
            assert needs["condition"] in {"service_started", "service_healthy"}, (name, needs)
            if needs["condition"] == "service_healthy":
                assert "healthcheck" in services[target], (name, target)
        for volume in service.get("volumes", []):
            source, _, target = volume.rpartition(":")  # no ":ro" used here
            assert target.startswith("/"), (name, volume)
            if not source.startswith(("/", ".", "$")):  # a named volume: declared
                assert source in declared, (name, source)
        check = service.get("healthcheck")
        if check is not None:
            assert check["test"][0] in {"CMD", "CMD-SHELL"}, (name, check)
            for field in ("interval", "timeout"):
                assert DURATION.match(str(check[field])), (name, field)
            assert int(check["retries"]) > 0
        if "stop_grace_period" in service:
            assert DURATION.match(str(service["stop_grace_period"])), name

    bot = services["bot"]
    assert (COMPOSE.parent / bot["build"]["context"] / bot["build"]["dockerfile"]).exists()
    assert bot["command"][:4] == ["python", "-m", "bot", "run"]
    assert bot["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    # The bot's environment holds settings of bot/config.py only, each spelt as it reads them.
    assert set(bot["environment"]) <= setting_names(), set(bot["environment"]) - setting_names()
    # Published on the host's loopback only, on the port the bot listens on in the container.
    listen_port = bot["environment"]["WEBHOOK__LISTEN"].rsplit(":", 1)[1]
    assert bot["environment"]["WEBHOOK__LISTEN"] == f"0.0.0.0:{listen_port}"
    assert bot["ports"] == [f"127.0.0.1:{listen_port}:{listen_port}"]
    # Files and keys on volumes from outside the checkout, where the settings point.
    mounts = dict(v.rsplit(":", 1)[::-1] for v in bot["volumes"])
    for setting in ("FILES_DIR", "KEYS_DIR"):
        source = mounts[bot["environment"][setting]]
        assert source.startswith(f"{DATA}/"), source
    # The database on a named volume; its health checked before the bot starts; the
    # container's names as the guide's DATABASE_URL and REDIS_URL spell them.
    db = services["db"]
    assert db["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert declared == {"pgdata"}
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert set(db["environment"]) == {"POSTGRES_USER", "POSTGRES_DB"}
    guide = (DOCS / "deploy.md").read_text(encoding="utf-8")
    user, name = db["environment"]["POSTGRES_USER"], db["environment"]["POSTGRES_DB"]
    assert f"DATABASE_URL=postgresql://{user}:PASSWORD@db/{name}" in guide
    assert "REDIS_URL=redis://:REDIS_PASSWORD@redis:6379/0" in guide
    assert "redis-server --requirepass" in " ".join(services["redis"]["command"])


# The stack started in CI: a fake Bot API (the project's own, from the bot's image) stands in
# for Telegram, which `run` asks who it is before it serves.
FAKE_TELEGRAM = (
    "import asyncio\n"
    "from bot.fakes.telegram import FakeTelegram\n"
    "async def main():\n"
    "    fake = FakeTelegram('{token}', bot_username='thidua_compose_bot')\n"
    "    await fake.start('0.0.0.0', 8081)\n"
    "    await asyncio.Event().wait()\n"
    "asyncio.run(main())\n"
)
LISTENING = "import socket; socket.create_connection(('127.0.0.1', 8081), 2)"
COMPOSE_TOKEN = "5000000003:AAHe2eE2Ee2eE2Ee2eE2Ee2eE2Ee2eE2Ee3"


def stack_env_file(tmp_path: Path) -> Path:
    """The env file the started stack reads, as deploy.md writes one for Compose."""
    env_file = tmp_path / "stack.env"
    env_file.write_text(
        f"TELEGRAM__TOKEN={COMPOSE_TOKEN}\n"
        "TELEGRAM__API_URL=http://telegram:8081\n"
        "WEBHOOK__URL=http://bot:8080/tg/webhook\n"
        "WEBHOOK__SECRET=compose-webhook-secret\n"
        "DATABASE_URL=postgresql://thidua:compose-pg-password@db/thidua\n"
        "REDIS_URL=redis://:compose-redis-password@redis:6379/0\n"
        "AUDIT_KEY=compose-audit-key-0123456789\n"
        "BALLOT_SECRET=compose-ballot-secret-0123456789\n"
        "POSTGRES_PASSWORD=compose-pg-password\n"
        "REDIS_PASSWORD=compose-redis-password\n",
        encoding="utf-8",
    )
    return env_file


def start_the_stack(tmp_path: Path, compose: dict[str, Any]) -> None:
    """`up -d --build --wait` with the guide's env file, /healthz from the host, then
    `down -v` whatever happened."""
    data = tmp_path / "data"
    for folder in ("files", "keys"):
        (data / folder).mkdir(parents=True)
        if os.geteuid() == 0:
            os.chown(data / folder, 10001, 10001)  # the image's user (deploy.md)
        else:
            (data / folder).chmod(0o777)
    env_file = stack_env_file(tmp_path)
    override = tmp_path / "compose.test.yml"
    bot = compose["services"]["bot"]
    build = {"context": str(ROOT), "dockerfile": bot["build"]["dockerfile"]}
    override.write_text(
        yaml.safe_dump(
            {
                "services": {
                    "telegram": {
                        "build": build,
                        "image": bot["image"],
                        "command": ["python", "-c", FAKE_TELEGRAM.format(token=COMPOSE_TOKEN)],
                        "healthcheck": {
                            "test": ["CMD", "python", "-c", LISTENING],
                            "interval": "2s",
                            "timeout": "5s",
                            "retries": 60,
                        },
                    },
                    "bot": {"depends_on": {"telegram": {"condition": "service_healthy"}}},
                }
            }
        ),
        encoding="utf-8",
    )
    project = [
        "compose",
        "-p",
        f"thidua-ci-{os.getpid()}",
        "-f",
        str(COMPOSE),
        "-f",
        str(override),
    ]
    env = {"THIDUA_ENV_FILE": str(env_file), "THIDUA_DATA": str(data)}
    try:
        up = docker(*project, "up", "-d", "--build", "--wait", "--wait-timeout", "600",
                    timeout=1800, **env)  # fmt: skip
        assert up.returncode == 0, up.stdout + up.stderr
        port = bot["ports"][0].rsplit(":", 1)[0].split(":")[-1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as reply:
            health = json.load(reply)
        assert (health["ok"], health["database"], health["redis"]) == (True, "ok", "ok"), health
    finally:
        down = docker(*project, "down", "-v", "--remove-orphans", timeout=300, **env)
        assert down.returncode == 0, down.stderr


def test_the_compose_file_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    check_the_compose_structure(compose)
    # The settings the started stack gets are ones the bot accepts (checked without Docker).
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in compose["services"]["bot"]["environment"].items():
        monkeypatch.setenv(name, value)  # the Compose file's environment wins over env_file
    stack = Settings(_env_file=stack_env_file(tmp_path))
    assert stack.is_postgres
    assert stack.webhook.url == "http://bot:8080/tg/webhook"
    assert stack.redis_url is not None
    compile(FAKE_TELEGRAM.format(token=COMPOSE_TOKEN), "fake-telegram", "exec")
    if not compose_plugin():
        return  # no docker compose here: the structure above is what can be checked
    if docker_daemon():
        start_the_stack(tmp_path, compose)
        return
    env_file = tmp_path / "thidua.env"
    env_file.write_text("POSTGRES_PASSWORD=x\nREDIS_PASSWORD=y\n", encoding="utf-8")
    done = docker("compose", "-f", str(COMPOSE), "config", "-q", THIDUA_ENV_FILE=str(env_file))
    assert done.returncode == 0, done.stderr


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
