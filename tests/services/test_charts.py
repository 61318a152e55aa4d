"""The standings chart: a PNG of the expected size, every Vietnamese label drawn with a glyph
(no missing-glyph warning), hostile names drawn literally, the same bytes for the same data."""

from __future__ import annotations

import struct
import warnings
from datetime import UTC, datetime

import pytest

from bot.core.models import Bloc, BlocKind, Unit
from bot.core.reports import LatePolicy, Period, PeriodKind
from bot.services.charts import MISSING, drawable, figure_size, standings_png
from bot.services.standings import StandingRow, StandingsView

NAMES = (
    "Sở Giáo dục và Đào tạo",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Y tế",
    "Ban Dân tộc tỉnh",
    "Sở Lao động - Thương binh và Xã hội",
    "Đài Phát thanh và Truyền hình tỉnh",
)
HOSTILE = (
    "<b>Sở & Ban</b>",
    "$x^2$ Sở Nội vụ",
    "Sở Tư pháp 🏆🎉",
    "Sở Ngoa\u0323i vu\u0323 (NFD)",  # decomposed diacritics
    "Ủy ban " + "rất dài " * 30,
    "Trường Cao đẳng Y tế\u200b",
)


def _view(names: tuple[str, ...], *, mine: int | None = None) -> StandingsView:
    bloc = Bloc(1, "Khối các cơ quan văn hóa - xã hội", BlocKind.KHOI, 2024, "KVHXH", "UTC")
    period = Period(
        1,
        1,
        PeriodKind.YEAR_END,
        "Báo cáo tổng kết năm 2024",
        datetime(2024, 12, 20, 10, tzinfo=UTC),
        LatePolicy.ACCEPT,
        10_000_000,
        ("pdf",),
        1,
    )
    rows = []
    for i, name in enumerate(names):
        total = None if i == len(names) - 1 else 9_500 - 250 * (i // 2)
        rows.append(
            StandingRow(
                None if total is None else 1 + 2 * (i // 2),
                Unit(i + 1, 1, name, f"U{i + 1}"),
                total,
                i % 3 != 1,
                "missing" if total is None else "submitted",
                i + 1 == mine,
            )
        )
    return StandingsView(bloc, period, tuple(rows), [], len(rows))


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_chart_is_a_png_of_the_expected_size_and_no_glyph_is_missing(locale: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = standings_png(_view(NAMES, mine=3), locale=locale)
    assert [str(w.message) for w in caught] == []
    assert _png_size(data) == figure_size(len(NAMES)) == (900, 366)
    assert len(data) > 10_000  # bars and labels, not an empty canvas


def test_hostile_names_render_without_warnings_and_literally() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = standings_png(_view(HOSTILE, mine=1), locale="vi")
    assert [str(w.message) for w in caught] == []
    assert _png_size(data) == figure_size(len(HOSTILE))
    # What each label becomes: HTML and "$" kept as typed, emoji as □, NFD composed, long cut.
    assert drawable("<b>Sở & Ban</b>") == "<b>Sở & Ban</b>"
    assert drawable("$x^2$ Sở Nội vụ") == "$x^2$ Sở Nội vụ"
    assert drawable("Sở Tư pháp 🏆🎉") == f"Sở Tư pháp {MISSING}{MISSING}"
    assert drawable("Sở Ngoa\u0323i vu\u0323") == "Sở Ngoại vụ"
    long = drawable("Ủy ban " + "rất dài " * 30)
    assert len(long) == 42
    assert long.endswith("…")


def test_a_forty_unit_bloc_fits_and_the_same_data_give_the_same_bytes() -> None:
    names = tuple(f"Ủy ban nhân dân huyện số {i:02d}" for i in range(1, 41))
    first = standings_png(_view(names, mine=7), locale="vi")
    assert _png_size(first) == figure_size(40) == (900, 1590)
    assert standings_png(_view(names, mine=7), locale="vi") == first
    assert standings_png(_view(names, mine=8), locale="vi") != first  # the highlight moved
