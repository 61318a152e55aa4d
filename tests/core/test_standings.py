"""Ranking: ties share a rank, the next rank skips, unscored units come last unranked."""

from __future__ import annotations

from bot.core.standings import ranks


def test_ties_share_a_rank_and_the_next_one_skips() -> None:
    totals = [(1, 9000), (2, 9550), (3, 9000), (4, None), (5, 8000), (6, 9550), (7, None)]
    assert ranks(totals) == [(2, 1), (6, 1), (1, 3), (3, 3), (5, 5), (4, None), (7, None)]


def test_nothing_scored_and_nothing_at_all() -> None:
    assert ranks([(1, None), (2, None)]) == [(1, None), (2, None)]
    assert ranks([]) == []
