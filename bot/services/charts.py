"""The standings as a PNG chart: horizontal bars, rank 1 at the top, the asker's unit in
another colour, reviewed and self-scored totals told apart (matplotlib, Agg, no pyplot).

Labels use the DejaVu Sans that matplotlib ships (every Vietnamese letter, stacked diacritics
included), so the chart looks the same on every machine. A character the font lacks (an
emoji in a unit's name) is drawn as "□" rather than left to a missing-glyph warning, and
names are never parsed as mathtext ("$x$" stays literal). Words come from the catalog
(`[chart]` in strings.toml); the same standings give the same bytes.
"""

from __future__ import annotations

import io
import threading
import unicodedata
from functools import cache
from typing import TYPE_CHECKING

from bot.core.models import Locale
from bot.render import points
from bot.services.exports import document_renderer

if TYPE_CHECKING:  # standings -> voting -> documents -> exports: type only
    from bot.services.standings import StandingsView

FONT = "DejaVu Sans"
WIDTH_IN = 9.0
DPI = 100
ROW_IN = 0.36  # height per unit
FRAME_IN = 1.5  # title, axis and legend
MAX_LABEL = 42  # characters of a unit's name before "…"
MISSING = "□"

COLOUR = "#2e6da4"
COLOUR_SELF = "#9dbbdd"
COLOUR_MINE = "#c0392b"
COLOUR_MINE_SELF = "#e6a39a"

_lock = threading.Lock()  # one figure at a time: matplotlib's font cache is process-wide


def figure_size(units: int) -> tuple[int, int]:
    """The PNG's size in pixels for a bloc of ``units`` units."""
    return round(WIDTH_IN * DPI), round((FRAME_IN + ROW_IN * max(units, 1)) * DPI)


@cache
def _charmap() -> frozenset[int]:
    from matplotlib import font_manager, ft2font

    path = font_manager.findfont(
        font_manager.FontProperties(family=FONT), fallback_to_default=False
    )
    return frozenset(ft2font.FT2Font(path).get_charmap())


def drawable(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` as the chart can draw it: NFC, one line, shortened, no glyph missing."""
    flat = " ".join(unicodedata.normalize("NFC", text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    known = _charmap()
    return "".join(c if ord(c) in known else MISSING for c in flat)


def standings_png(view: StandingsView, *, locale: str) -> bytes:
    """The chart of ``view`` (the asker's unit is the row marked ``mine``)."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    loc = Locale(locale)

    def t(key: str) -> str:
        return document_renderer().t(loc, f"chart.{key}")

    rows = list(view.rows)
    labels = [drawable(f"{r.rank}. {r.unit.name}" if r.rank else f"– {r.unit.name}") for r in rows]
    values = [(r.total_cp or 0) / 100 for r in rows]
    colours = [
        (COLOUR_MINE if r.reviewed else COLOUR_MINE_SELF)
        if r.mine
        else (COLOUR if r.reviewed else COLOUR_SELF)
        for r in rows
    ]
    width_px, height_px = figure_size(len(rows))
    with _lock, rc_context({"font.family": FONT, "font.size": 10, "text.parse_math": False}):
        fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        positions = list(range(len(rows)))
        ax.barh(positions, values, color=colours, height=0.7)
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()  # rank 1 at the top
        for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
            if row.mine:
                tick.set_fontweight("bold")
                tick.set_color(COLOUR_MINE)
        top = max(values, default=0) or 1
        bottom = min(0.0, *values) if values else 0.0  # penalties can take a total below 0
        for y, row, value in zip(positions, rows, values, strict=True):
            text = points(row.total_cp, locale) if row.total_cp is not None else t("missing")
            ax.text(max(value, 0) + top * 0.01, y, text, va="center", fontsize=9)
        ax.set_xlim(bottom * 1.15, top * 1.15)
        ax.set_xlabel(t("points"))
        ax.spines[["top", "right"]].set_visible(False)
        title = drawable(f"{t('title')} — {view.bloc.name}", 80)
        subtitle = drawable(view.period.title, 90) if view.period else t("no_period")
        ax.set_title(f"{title}\n{subtitle}", loc="left", fontsize=11)
        fig.legend(
            handles=[
                Patch(color=COLOUR, label=t("reviewed")),
                Patch(color=COLOUR_SELF, label=t("self")),
            ],
            loc="outside lower right",
            ncols=2,
            fontsize=8,
            frameon=False,
        )
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()
