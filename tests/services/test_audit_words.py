"""The audit log in words (the console's audit page): every action the services record has a
description in both languages, and the facts it names are filled in from the row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.models import Locale
from bot.render import Renderer
from bot.services.audit import describe

SERVICES = Path(__file__).resolve().parents[2] / "bot" / "services"
_ACTION = re.compile(r'action="([a-z_]+\.[a-z_.]+)"(?: if \w+ else "([a-z_]+\.[a-z_.]+)")?')


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for source in SERVICES.glob("*.py"):
        for match in _ACTION.finditer(source.read_text(encoding="utf-8")):
            found.update(a for a in match.groups() if a)
    return found


@pytest.mark.parametrize("locale", [Locale.VI, Locale.EN])
def test_every_recorded_action_is_described(locale: Locale) -> None:
    renderer = Renderer()
    actions = recorded_actions()
    assert "deadline.added" in actions
    assert "conference.set_up" in actions  # the second name of a conditional action
    missing = [a for a in sorted(actions) if describe(renderer, locale, a, {}) == a]
    assert missing == []


def test_the_facts_are_filled_in_and_an_unknown_action_reads_as_its_code() -> None:
    renderer = Renderer()
    details = {"title": "Nộp danh sách", "due_at": "2024-12-10T10:00:00+00:00", "deadline": 3}
    assert describe(renderer, Locale.VI, "deadline.added", details) == (
        "Thêm hạn chót «Nộp danh sách»"
    )
    assert describe(renderer, Locale.EN, "summary.paragraph", {"which": "closing"}) == (
        "Edited the summary's «closing» paragraph"
    )
    # A summary sent in private (a bloc on Zalo has no group): how many it reached.
    assert describe(renderer, Locale.VI, "summary.sent", {"members": 6}) == (
        "Gửi bài tổng kết riêng cho 6 thành viên (khối chưa có nhóm)"
    )
    # An award handed out at the conference: its form and who gave it, as typed.
    details = {"by": "Chủ tịch UBND tỉnh", "form": "Bằng khen", "conference": 1}
    assert describe(renderer, Locale.VI, "summary.handed_out_added", details) == (
        "Thêm khen thưởng trao tại hội nghị: Bằng khen (Chủ tịch UBND tỉnh)"
    )
    assert describe(renderer, Locale.EN, "summary.handed_out_removed", {"number": 2}) == (
        "Removed award handed out number 2"
    )
    assert describe(renderer, Locale.VI, "something.new", {}) == "something.new"
    # A fact that looks like a format field is text, not a field.
    assert describe(renderer, Locale.VI, "deadline.added", {"title": "{year}"}) == (
        "Thêm hạn chót «{year}»"
    )
