"""Standings: competition ranking of the units by the total that counts ("1, 2, 2, 4");
units without a report are unranked, after the others."""

from __future__ import annotations

from collections.abc import Sequence


def ranks(totals: Sequence[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    """(unit id, total in hundredths or None) -> (unit id, rank or None), best first; equal
    totals share a rank and the next rank skips; unscored units keep their given order."""
    scored = sorted((t for t in totals if t[1] is not None), key=lambda t: -(t[1] or 0))
    ranked: list[tuple[int, int | None]] = []
    previous: int | None = None
    rank = 0
    for position, (unit_id, total) in enumerate(scored, start=1):
        if total != previous:
            rank, previous = position, total
        ranked.append((unit_id, rank))
    ranked += [(unit_id, None) for unit_id, total in totals if total is None]
    return ranked
