"""The bloc's level: the award tiers `/ballot defaults` creates for each level, their quotas,
and the bloc's regulation read as the memo's legal bases."""

from __future__ import annotations

import unicodedata

import pytest

from bot.core.levels import (
    LEVELS,
    QuotaRule,
    default_tiers,
    level_defaults,
    level_key,
    regulation_lines,
    tier_quota,
)
from bot.core.models import BlocLevel


def test_a_cluster_of_provinces_proposes_the_governments_awards_to_the_centre() -> None:
    assert default_tiers(BlocLevel.NATIONAL, 7) == (("gov_flag", 1), ("pm_cert", 1))
    assert level_defaults(BlocLevel.NATIONAL).through_board  # the central board, copied


def test_a_provincial_bloc_proposes_the_government_and_province_awards() -> None:
    assert default_tiers(BlocLevel.PROVINCE, 12) == (
        ("gov_flag", 1),
        ("province_flag", 2),  # ⌊20% of 12⌋
        ("pm_cert", 1),
        ("chair_cert", 3),
    )
    assert level_defaults(BlocLevel.PROVINCE).through_board  # the provincial board, copied


def test_a_ministry_bloc_proposes_the_ministrys_awards_and_a_commune_its_chairs() -> None:
    assert default_tiers(BlocLevel.MINISTRY, 10) == (
        ("gov_flag", 1),
        ("ministry_flag", 2),
        ("pm_cert", 1),
        ("minister_cert", 3),
    )
    assert default_tiers(BlocLevel.COMMUNE, 6) == (("commune_cert", 3),)
    assert not level_defaults(BlocLevel.MINISTRY).through_board
    assert not level_defaults(BlocLevel.COMMUNE).through_board


def test_no_level_keeps_the_defaults_blocs_always_had() -> None:
    assert default_tiers(None, 4) == (
        ("gov_flag", 1),
        ("province_flag", 1),  # never fewer than one
        ("pm_cert", 1),
        ("chair_cert", 3),
    )
    assert not level_defaults(None).through_board  # the memo as before: no board copied
    assert level_key(None) == "none"
    assert [level_key(level) for level in BlocLevel] == [
        "national",
        "ministry",
        "province",
        "commune",
    ]


@pytest.mark.parametrize("level", [None, *BlocLevel])
def test_every_level_has_tiers_and_flags_are_named_as_flags(level: BlocLevel | None) -> None:
    tiers = LEVELS[level].tiers
    assert tiers
    assert len({t.key for t in tiers}) == len(tiers)
    # The summary says a flag is «nhận» and a certificate «tặng» by the key's ending.
    assert all(t.key.endswith(("flag", "cert")) for t in tiers)


@pytest.mark.parametrize(
    ("rule", "units", "quota"),
    [
        (QuotaRule.ONE, 40, 1),
        (QuotaRule.FIFTH, 4, 1),
        (QuotaRule.FIFTH, 5, 1),
        (QuotaRule.FIFTH, 10, 2),
        (QuotaRule.FIFTH, 14, 2),
        (QuotaRule.FIFTH, 15, 3),
        (QuotaRule.THREE, 2, 3),
    ],
)
def test_quota_rules(rule: QuotaRule, units: int, quota: int) -> None:
    assert tier_quota(rule, units) == quota


def test_the_regulation_is_one_legal_basis_a_line_without_the_words_the_memo_adds() -> None:
    typed = (
        "Căn cứ Quy chế tổ chức và hoạt động của Cụm thi đua ban hành kèm theo Quyết định "
        "số 12/QĐ-BTĐKT ngày 15/3/2024;\n\n"
        "  căn cứ:   Hướng dẫn số 01/HD-CTĐ.  \n"
        "Pursuant to the cluster's rules;\n"
        + unicodedata.normalize("NFD", "Kế hoạch số 5/KH-CTĐ của Cụm")
        + "\n;\n"
    )
    assert regulation_lines(typed) == (
        "Quy chế tổ chức và hoạt động của Cụm thi đua ban hành kèm theo Quyết định "
        "số 12/QĐ-BTĐKT ngày 15/3/2024",
        "Hướng dẫn số 01/HD-CTĐ",
        "the cluster's rules",
        "Kế hoạch số 5/KH-CTĐ của Cụm",  # composed
    )
    assert regulation_lines("") == ()
    # A line that only starts with the same letters keeps them.
    assert regulation_lines("Căn cứu xyz") == ("Căn cứu xyz",)
