"""Parsing in a child process: its result comes back; past the time or memory limit it is
stopped and told, and the bot's own process is untouched."""

from __future__ import annotations

from bot.services.sandbox import OverLimit, run_limited
from bot.services.tabular import Unreadable, document_text, read_table
from tests.handlers.support import docx_bytes, xlsx_bytes
from tests.hostile.files import broken_docx, wide_xlsx
from tests.services.sandbox_targets import allocates, sleeps


async def test_a_parse_returns_its_value() -> None:
    rows = await run_limited(read_table, "a.xlsx", xlsx_bytes([("Sở Y tế", "SYT")]))
    assert rows == [(1, ["Sở Y tế", "SYT"])]
    text = await run_limited(document_text, docx_bytes("Điều 1.", "Điều 2."))
    assert text == "Điều 1.\nĐiều 2."


async def test_damage_and_wide_rows_are_values() -> None:
    assert await run_limited(document_text, broken_docx()) == Unreadable("broken")
    assert await run_limited(read_table, "a.xlsx", wide_xlsx(rows=1)) == Unreadable("wide")


async def test_past_the_time_limit_the_child_is_stopped() -> None:
    assert await run_limited(sleeps, 30, seconds=1) == OverLimit("time")


async def test_past_the_memory_limit_the_parse_is_refused() -> None:
    limit = 64 * 1024 * 1024
    assert await run_limited(allocates, 1024 * 1024, memory=limit) == 1024 * 1024
    assert await run_limited(allocates, 4 * limit, memory=limit) == OverLimit("memory")



async def test_a_slow_start_is_not_the_files_fault() -> None:
    """A child slow to be ready (its function's module takes two seconds to import in it, as
    a script's modules do on a machine busy with other work) is not held to the parse's one
    second: the file is read, not refused as too long (before: OverLimit("time"))."""
    from tests.services.slow_import import quick

    assert await run_limited(quick, seconds=1) == "quick"
