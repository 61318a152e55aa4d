"""bot/core is the pure domain: it must not import frameworks, drivers or I/O libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE_DIR = Path(__file__).resolve().parents[2] / "bot" / "core"
FORBIDDEN = frozenset({"aiogram", "sqlalchemy", "sqlmodel", "httpx", "jinja2", "apscheduler"})


def imported_modules(source: str, filename: str = "<string>") -> list[str]:
    """Every absolute module name an `import` or `from ... import` statement names."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def forbidden_imports(source: str, filename: str = "<string>") -> list[str]:
    """The imported names whose top-level package is forbidden in the core."""
    return [
        name for name in imported_modules(source, filename) if name.split(".", 1)[0] in FORBIDDEN
    ]


def core_files() -> list[Path]:
    return sorted(CORE_DIR.rglob("*.py"))


def test_core_has_modules_to_check() -> None:
    names = {p.name for p in core_files()}
    assert {"invites.py", "units.py", "audit.py", "text.py", "models.py"} <= names


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.name)
def test_core_module_imports_no_framework(path: Path) -> None:
    found = forbidden_imports(path.read_text(encoding="utf-8"), str(path))
    assert found == [], f"{path.name} imports {found}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from aiogram import Bot\n", ["aiogram"]),
        ("import sqlalchemy.orm as orm\n", ["sqlalchemy.orm"]),
        ("from sqlalchemy.ext.asyncio import AsyncSession\n", ["sqlalchemy.ext.asyncio"]),
        ("import os, httpx\n", ["httpx"]),
        ("def f() -> None:\n    import jinja2\n", ["jinja2"]),
        (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from sqlmodel import Field\n",
            ["sqlmodel"],
        ),
        ("from apscheduler.triggers.cron import CronTrigger\n", ["apscheduler.triggers.cron"]),
        ("import aiogramx\nfrom bot.core.models import Unit\nfrom . import text\n", []),
    ],
)
def test_walker_flags_forbidden_imports(source: str, expected: list[str]) -> None:
    assert forbidden_imports(source) == expected
