"""The bloc's level (cấp): which awards it proposes by default and to which body its memo goes.

A cluster of provinces proposes the Government's flag and the Prime Minister's certificate to
the central council; a provincial bloc proposes the Government's flag, the provincial flag, the
Prime Minister's and the provincial chair's certificates to the provincial council (through
the provincial board); a ministry's bloc proposes to its ministry; a commune's to the commune
(domain.md, "Levels of blocs"). The level only picks these defaults: the body's name is a
per-bloc setting (`Bloc.reports_to`) and the ballots `/ballot defaults` created can be changed.
A bloc with no level keeps the defaults it always had (the provincial tiers, the provincial
council, no board copied).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.core.models import BlocLevel
from bot.core.text import clean


class QuotaRule(enum.StrEnum):
    """How many units an award tier may propose, from the bloc's size (domain.md)."""

    ONE = "one"
    FIFTH = "fifth"  # max(1, ⌊20% of the units⌋): the provincial or ministry flag
    THREE = "three"


def tier_quota(rule: QuotaRule, units: int) -> int:
    """Government flag 1; provincial (or ministry) flag max(1, ⌊20% of units⌋); PM's
    certificate 1; chair's (minister's, commune chair's) certificate 3."""
    if rule is QuotaRule.FIFTH:
        return max(1, units * 20 // 100)
    return 3 if rule is QuotaRule.THREE else 1


@dataclass(frozen=True, slots=True)
class TierDefault:
    """An award tier `/ballot defaults` creates: its key (strings.toml [tier]; a flag's key
    ends in "flag") and its quota rule."""

    key: str
    quota: QuotaRule


@dataclass(frozen=True, slots=True)
class LevelDefaults:
    """What a level decides: the award tiers in their order (a unit proposed at one leaves the
    lower ones), and whether the memo goes to the council through its standing board (the
    board is then copied under "Nơi nhận")."""

    tiers: tuple[TierDefault, ...]
    through_board: bool


_GOV_FLAG = TierDefault("gov_flag", QuotaRule.ONE)
_PM_CERT = TierDefault("pm_cert", QuotaRule.ONE)

LEVELS: dict[BlocLevel | None, LevelDefaults] = {
    None: LevelDefaults(
        (
            _GOV_FLAG,
            TierDefault("province_flag", QuotaRule.FIFTH),
            _PM_CERT,
            TierDefault("chair_cert", QuotaRule.THREE),
        ),
        through_board=False,
    ),
    BlocLevel.NATIONAL: LevelDefaults((_GOV_FLAG, _PM_CERT), through_board=True),
    BlocLevel.MINISTRY: LevelDefaults(
        (
            _GOV_FLAG,
            TierDefault("ministry_flag", QuotaRule.FIFTH),
            _PM_CERT,
            TierDefault("minister_cert", QuotaRule.THREE),
        ),
        through_board=False,
    ),
    BlocLevel.PROVINCE: LevelDefaults(
        (
            _GOV_FLAG,
            TierDefault("province_flag", QuotaRule.FIFTH),
            _PM_CERT,
            TierDefault("chair_cert", QuotaRule.THREE),
        ),
        through_board=True,
    ),
    BlocLevel.COMMUNE: LevelDefaults(
        (TierDefault("commune_cert", QuotaRule.THREE),), through_board=False
    ),
}


def level_defaults(level: BlocLevel | None) -> LevelDefaults:
    """The defaults of a level (no level: the provincial tiers, as before levels existed)."""
    return LEVELS[level]


def level_key(level: BlocLevel | None) -> str:
    """The level's key in the catalog ([level], [level_body], [level_board]): "none" when the
    bloc has none."""
    return level.value if level is not None else "none"


def default_tiers(level: BlocLevel | None, units: int) -> tuple[tuple[str, int], ...]:
    """The award tiers `/ballot defaults` creates for a bloc of this level and size: (key,
    quota) in order."""
    return tuple((t.key, tier_quota(t.quota, units)) for t in level_defaults(level).tiers)


_BASIS_WORDS = ("căn cứ", "can cu", "pursuant to")


def regulation_lines(text: str) -> tuple[str, ...]:
    """The bloc's regulation as the memo's legal bases: one per line, each without the "Căn
    cứ" a secretary may have typed before it or the ";" after it (the memo adds both)."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = clean(raw)
        for word in _BASIS_WORDS:
            if line[: len(word) + 1].casefold() in (word + " ", word + ":"):
                line = line[len(word) :].lstrip(" :")
                break
        line = line.rstrip(" ;.,")
        if line:
            lines.append(line)
    return tuple(lines)
