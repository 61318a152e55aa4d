"""Ballots and counting: thresholds × bases, quorum, quotas, tiers, ties and run-offs, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.voting import (
    ANY_SHARE,
    MAJORITY,
    SEVENTY,
    TWO_THIRDS,
    Ballot,
    BallotKind,
    BallotStatus,
    Base,
    Cast,
    CastRejection,
    Choice,
    Option,
    OptionKind,
    Rules,
    Threshold,
    break_tie_by_score,
    check_cast,
    default_rules,
    exclude_higher_tiers,
    missing_for_quorum,
    parse_threshold,
    percent_tenths,
    quorum_met,
    reachable,
    runoff_candidates,
    runoff_rules,
    tally,
)

NINETY = Threshold(9, 10, strict=False)
OPENS = datetime(2024, 12, 20, 8, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(minutes=30)
DURING = OPENS + timedelta(minutes=10)

YES = Option(0, OptionKind.YES, label="Có")
NO = Option(1, OptionKind.NO, label="Không")
AGREE = Option(0, OptionKind.AGREE, label="Đồng ý")
DISAGREE = Option(1, OptionKind.DISAGREE, label="Không đồng ý")
OTHER = Option(2, OptionKind.OTHER, label="Ý kiến khác")


def units(*ids: int) -> tuple[Option, ...]:
    """Candidate options for units, indexed in order."""
    return tuple(
        Option(i, OptionKind.UNIT, unit_id, f"Đơn vị {unit_id}") for i, unit_id in enumerate(ids)
    )


def ballot(
    kind: BallotKind,
    options: tuple[Option, ...],
    rules: Rules,
    status: BallotStatus = BallotStatus.OPEN,
) -> Ballot:
    return Ballot(1, kind, options, rules, OPENS, CLOSES, status)


def casts(*choices: Choice) -> list[Cast]:
    """One cast per unit, units numbered 1, 2, 3… in order."""
    return [Cast(unit_id, choice) for unit_id, choice in enumerate(choices, start=1)]


def pick(*indices: int) -> Choice:
    return Choice(indices)


BLANK = Choice(blank=True)


# --- thresholds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "votes", "base", "expected"),
    [
        (MAJORITY, 6, 12, False),  # exactly half is not more than half
        (MAJORITY, 7, 12, True),
        (MAJORITY, 5, 10, False),
        (MAJORITY, 6, 10, True),
        (TWO_THIRDS, 7, 12, False),
        (TWO_THIRDS, 8, 12, True),  # exactly two thirds
        (TWO_THIRDS, 6, 9, True),
        (TWO_THIRDS, 4, 7, False),
        (SEVENTY, 7, 10, True),  # exactly 70%
        (SEVENTY, 69, 100, False),
        (SEVENTY, 8, 12, False),  # 66.7%
        (SEVENTY, 9, 12, True),  # 75%
        (NINETY, 9, 10, True),
        (NINETY, 10, 12, False),  # 83.3%
        (NINETY, 11, 12, True),  # 91.7%
        (MAJORITY, 0, 0, False),  # an empty base passes nothing
        (ANY_SHARE, 0, 5, True),
    ],
)
def test_threshold_passes(threshold: Threshold, votes: int, base: int, expected: bool) -> None:
    assert threshold.passes(votes, base) is expected


@pytest.mark.parametrize(
    ("threshold", "base", "expected"),
    [
        (MAJORITY, 12, 7),
        (MAJORITY, 9, 5),
        (TWO_THIRDS, 12, 8),
        (TWO_THIRDS, 7, 5),
        (SEVENTY, 12, 9),
        (SEVENTY, 7, 5),
        (NINETY, 12, 11),
        (NINETY, 9, 9),
    ],
)
def test_min_votes(threshold: Threshold, base: int, expected: int) -> None:
    assert threshold.min_votes(base) == expected


@pytest.mark.parametrize(
    ("threshold", "label"),
    [
        (MAJORITY, ">50%"),
        (TWO_THIRDS, "≥2/3"),
        (SEVENTY, "≥70%"),
        (NINETY, "≥90%"),
        (Threshold(50, 100, strict=True), ">50%"),
        (Threshold(4, 6, strict=False), "≥2/3"),
        (Threshold(1, 3, strict=True), ">1/3"),
        (Threshold(6667, 10_000, strict=False), "≥66,67%"),
        (Threshold(1, 1, strict=False), "≥100%"),
        (ANY_SHARE, "≥0%"),
    ],
)
def test_threshold_label(threshold: Threshold, label: str) -> None:
    assert threshold.label() == label


def test_thresholds_are_equal_when_they_state_the_same_rule() -> None:
    assert Threshold(50, 100, strict=True) == MAJORITY
    assert hash(Threshold(50, 100, strict=True)) == hash(MAJORITY)
    assert Threshold(1, 2, strict=False) != MAJORITY
    assert Threshold(7, 10, strict=False) == SEVENTY
    assert len({MAJORITY, Threshold(2, 4, strict=True), TWO_THIRDS}) == 2


@pytest.mark.parametrize(
    ("numerator", "denominator", "strict"),
    [(1, 0, False), (3, 2, False), (-1, 2, False), (1, 1, True)],
)
def test_impossible_threshold_is_a_bug(numerator: int, denominator: int, strict: bool) -> None:
    with pytest.raises(ValueError, match=r"threshold|100%"):
        Threshold(numerator, denominator, strict=strict)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (">50%", MAJORITY),
        ("50%", Threshold(1, 2, strict=False)),  # a bare share means "at least"
        ("≥2/3", TWO_THIRDS),
        (">=2/3", TWO_THIRDS),
        ("=>2/3", TWO_THIRDS),
        ("2/3", TWO_THIRDS),
        ("4/6", TWO_THIRDS),
        ("70%", SEVENTY),
        ("≥70%", SEVENTY),
        ("≥ 90 %", NINETY),
        ("  > 50 % ", MAJORITY),
        ("quá bán", MAJORITY),
        ("qua ban", MAJORITY),
        ("Quá Bán", MAJORITY),
        ("trên 50%", MAJORITY),
        ("từ 70% trở lên", SEVENTY),
        ("70% trở lên", SEVENTY),
        ("ít nhất 2/3", TWO_THIRDS),
        ("66,67%", Threshold(6667, 10_000, strict=False)),
        ("66.5%", Threshold(665, 1000, strict=False)),
        ("100%", Threshold(1, 1, strict=False)),
        ("", None),
        ("đa số", None),
        ("50", None),
        (">", None),
        ("0%", None),
        (">0%", None),
        ("150%", None),
        (">100%", None),
        ("3/2", None),
        ("1/0", None),
        ("0/3", None),
        ("66,675%", None),
        ("70%%", None),
    ],
)
def test_parse_threshold(text: str, expected: Threshold | None) -> None:
    assert parse_threshold(text) == expected


def test_parsed_threshold_keeps_its_label() -> None:
    parsed = parse_threshold("trên 50%")
    assert parsed is not None
    assert parsed.label() == ">50%"


@pytest.mark.parametrize(
    ("votes", "base", "expected"),
    [
        (7, 12, 583),
        (5, 9, 556),
        (6, 9, 667),
        (1, 16, 63),
        (3, 16, 188),
        (1, 2000, 1),
        (1, 2001, 0),
        (12, 12, 1000),
        (0, 12, 0),
        (3, 0, 0),
    ],
)
def test_percent_tenths_rounds_half_up(votes: int, base: int, expected: int) -> None:
    assert percent_tenths(votes, base) == expected


@st.composite
def any_threshold(draw: st.DrawFn, min_numerator: int = 0) -> Threshold:
    denominator = draw(st.integers(1, 1000))
    numerator = draw(st.integers(min(min_numerator, denominator), denominator))
    strict = draw(st.booleans()) and numerator < denominator
    return Threshold(numerator, denominator, strict=strict)


@given(any_threshold(), st.integers(0, 2000), st.integers(1, 2000))
def test_passes_agrees_with_fractions(threshold: Threshold, votes: int, base: int) -> None:
    share, rule = Fraction(votes, base), Fraction(threshold.numerator, threshold.denominator)
    assert threshold.passes(votes, base) is (share > rule if threshold.strict else share >= rule)


@given(any_threshold(), st.integers(0, 2000), st.integers(1, 2000))
def test_passes_is_monotone_in_votes(threshold: Threshold, votes: int, base: int) -> None:
    if threshold.passes(votes, base):
        assert threshold.passes(votes + 1, base)


@given(any_threshold(), st.integers(1, 2000))
def test_min_votes_is_the_boundary(threshold: Threshold, base: int) -> None:
    least = threshold.min_votes(base)
    assert threshold.passes(least, base)
    assert not threshold.passes(least - 1, base)


@given(any_threshold(min_numerator=1))
def test_label_parses_back(threshold: Threshold) -> None:
    assert parse_threshold(threshold.label()) == threshold


@given(st.integers(0, 5000), st.integers(1, 5000))
def test_percent_tenths_is_exact_half_up(votes: int, base: int) -> None:
    exact = Fraction(votes * 1000, base)
    assert percent_tenths(votes, base) == int(exact + Fraction(1, 2))


# --- defaults ----------------------------------------------------------------------------


def test_default_rules() -> None:
    assert default_rules(BallotKind.APPROVE_REPORT) == Rules(
        MAJORITY, self_vote=True, secret=False
    )
    assert default_rules(BallotKind.YES_NO) == Rules(MAJORITY, self_vote=True, secret=False)
    leader = Rules(MAJORITY, Base.ALL_MEMBERS, 1, self_vote=False, secret=True, quorum=TWO_THIRDS)
    assert default_rules(BallotKind.LEADER) == leader
    assert default_rules(BallotKind.DEPUTY, quota=3) == leader  # one choice, whatever the quota
    assert default_rules(BallotKind.AWARD, quota=3) == Rules(
        SEVENTY, max_choices=3, self_vote=False, secret=True
    )
    assert default_rules(BallotKind.AWARD).max_choices == 1


def test_rules_allow_at_least_one_choice() -> None:
    with pytest.raises(ValueError, match="at least one choice"):
        Rules(MAJORITY, max_choices=0)


def test_ballot_refuses_duplicate_option_indices() -> None:
    with pytest.raises(ValueError, match="duplicate option indices"):
        ballot(
            BallotKind.YES_NO, (YES, Option(0, OptionKind.NO)), default_rules(BallotKind.YES_NO)
        )


# --- every threshold × every base at the boundary ---------------------------------------


def yes_no_tally(
    threshold: Threshold, base: Base, *, members: int, present: int, yes: int, no: int, blank: int
) -> tuple[int, int, bool]:
    b = ballot(BallotKind.YES_NO, (YES, NO), Rules(threshold, base))
    result = tally(
        b,
        casts(*[pick(0)] * yes, *[pick(1)] * no, *[BLANK] * blank),
        members=members,
        present=present,
    )
    yes_result = result.options[0]
    assert result.winners == ((YES,) if yes_result.passes else ())
    return result.base_count, yes_result.percent_tenths, yes_result.passes


# Two conferences of a 12-unit bloc: A with 9 units checked in, B with all 12. Each row gives
# the ballots returned (yes, no, blank), e.g. A with 8 returned, 1 blank: 7 valid.
A = {"members": 12, "present": 9}
B = {"members": 12, "present": 12}


BOUNDARY = [
    # >50%
    (MAJORITY, Base.ALL_MEMBERS, A, 6, 1, 1, 12, 500, False),
    (MAJORITY, Base.ALL_MEMBERS, A, 7, 0, 1, 12, 583, True),
    (MAJORITY, Base.PRESENT, A, 4, 3, 1, 9, 444, False),
    (MAJORITY, Base.PRESENT, A, 5, 2, 1, 9, 556, True),
    (MAJORITY, Base.CAST, A, 4, 3, 1, 8, 500, False),
    (MAJORITY, Base.CAST, A, 5, 2, 1, 8, 625, True),
    (MAJORITY, Base.VALID, A, 3, 4, 1, 7, 429, False),
    (MAJORITY, Base.VALID, A, 4, 3, 1, 7, 571, True),
    # ≥2/3
    (TWO_THIRDS, Base.ALL_MEMBERS, A, 7, 0, 1, 12, 583, False),  # out of reach in A
    (TWO_THIRDS, Base.ALL_MEMBERS, B, 7, 5, 0, 12, 583, False),
    (TWO_THIRDS, Base.ALL_MEMBERS, B, 8, 4, 0, 12, 667, True),
    (TWO_THIRDS, Base.PRESENT, A, 5, 2, 1, 9, 556, False),
    (TWO_THIRDS, Base.PRESENT, A, 6, 1, 1, 9, 667, True),  # exactly 6/9
    (TWO_THIRDS, Base.CAST, A, 5, 2, 1, 8, 625, False),
    (TWO_THIRDS, Base.CAST, A, 6, 1, 1, 8, 750, True),
    (TWO_THIRDS, Base.VALID, A, 4, 3, 1, 7, 571, False),
    (TWO_THIRDS, Base.VALID, A, 5, 2, 1, 7, 714, True),
    # ≥70%
    (SEVENTY, Base.ALL_MEMBERS, B, 8, 4, 0, 12, 667, False),
    (SEVENTY, Base.ALL_MEMBERS, B, 9, 3, 0, 12, 750, True),
    (SEVENTY, Base.PRESENT, A, 6, 1, 1, 9, 667, False),
    (SEVENTY, Base.PRESENT, A, 7, 0, 1, 9, 778, True),
    (SEVENTY, Base.CAST, A, 5, 2, 1, 8, 625, False),
    (SEVENTY, Base.CAST, A, 6, 1, 1, 8, 750, True),
    (SEVENTY, Base.VALID, A, 4, 3, 1, 7, 571, False),
    (SEVENTY, Base.VALID, A, 5, 2, 1, 7, 714, True),
    # ≥90%
    (NINETY, Base.ALL_MEMBERS, B, 10, 2, 0, 12, 833, False),
    (NINETY, Base.ALL_MEMBERS, B, 11, 1, 0, 12, 917, True),
    (NINETY, Base.PRESENT, A, 7, 0, 1, 9, 778, False),  # 9 of 9 needed, 7 valid
    (NINETY, Base.PRESENT, A, 8, 1, 0, 9, 889, False),
    (NINETY, Base.PRESENT, A, 9, 0, 0, 9, 1000, True),
    (NINETY, Base.CAST, A, 7, 0, 1, 8, 875, False),  # the blank alone sinks it
    (NINETY, Base.CAST, B, 9, 1, 1, 11, 818, False),
    (NINETY, Base.CAST, B, 10, 0, 1, 11, 909, True),
    (NINETY, Base.VALID, A, 6, 1, 1, 7, 857, False),
    (NINETY, Base.VALID, A, 7, 0, 1, 7, 1000, True),
    (NINETY, Base.VALID, B, 8, 2, 1, 10, 800, False),
    (NINETY, Base.VALID, B, 9, 1, 1, 10, 900, True),
]


@pytest.mark.parametrize(
    ("threshold", "base", "conference", "yes", "no", "blank", "base_count", "percent", "passes"),
    BOUNDARY,
)
def test_threshold_by_base(
    threshold: Threshold,
    base: Base,
    conference: dict[str, int],
    yes: int,
    no: int,
    blank: int,
    base_count: int,
    percent: int,
    passes: bool,
) -> None:
    got = yes_no_tally(threshold, base, yes=yes, no=no, blank=blank, **conference)
    assert got == (base_count, percent, passes)


def test_every_threshold_and_base_is_covered() -> None:
    combos = {(row[0], row[1]) for row in BOUNDARY}
    assert combos == {(t, b) for t in (MAJORITY, TWO_THIRDS, SEVENTY, NINETY) for b in Base}
    # each combination is shown failing just below and passing at its boundary
    assert all({row[8] for row in BOUNDARY if row[:2] == c} == {False, True} for c in combos)


# --- counting ----------------------------------------------------------------------------


def test_blank_is_returned_and_not_valid() -> None:
    b = ballot(
        BallotKind.APPROVE_REPORT,
        (AGREE, DISAGREE, OTHER),
        default_rules(BallotKind.APPROVE_REPORT),
    )
    result = tally(
        b,
        casts(*[pick(0)] * 6, pick(1), BLANK),
        members=12,
        present=9,
    )
    assert (result.issued, result.returned, result.valid, result.invalid, result.blank) == (
        12,
        8,
        7,
        1,
        1,
    )
    assert (result.base, result.base_count) == (Base.ALL_MEMBERS, 12)
    assert [(r.votes, r.percent_tenths, r.passes) for r in result.options] == [
        (6, 500, False),
        (1, 83, False),
        (0, 0, False),
    ]
    assert result.winners == ()
    assert result.fewer_than_quota  # the report is not approved


def test_report_approved_with_other_opinion() -> None:
    b = ballot(
        BallotKind.APPROVE_REPORT,
        (AGREE, DISAGREE, OTHER),
        default_rules(BallotKind.APPROVE_REPORT),
    )
    other = Choice((2,), other_text="Bổ sung số liệu quý IV")
    result = tally(b, casts(*[pick(0)] * 9, pick(1), other), members=12, present=11)
    assert [r.votes for r in result.options] == [9, 1, 1]
    assert result.options[0].percent_tenths == 750
    assert result.winners == (AGREE,)
    assert not result.fewer_than_quota
    assert result.tie == ()


def test_paper_ballots_marked_invalid() -> None:
    b = ballot(BallotKind.YES_NO, (YES, NO), Rules(MAJORITY, Base.VALID))
    paper = [Cast(9, pick(0), valid=False), Cast(10, BLANK, valid=False), Cast(11, Choice((0, 1)))]
    result = tally(b, [*casts(pick(0), pick(0), pick(1)), *paper], members=12, present=12)
    # the defaced ballot, the defaced blank and the one marking both count as invalid
    assert (result.returned, result.valid, result.invalid, result.blank) == (6, 3, 3, 0)
    assert [r.votes for r in result.options] == [2, 1]
    assert result.base_count == 3
    assert result.options[0].percent_tenths == 667
    assert result.winners == (YES,)


def test_unusable_marks_on_a_valid_ballot_count_as_invalid() -> None:
    b = ballot(BallotKind.AWARD, units(1, 2, 3), Rules(SEVENTY, max_choices=1))
    bad = [Choice((5,)), Choice((0, 0)), Choice(), Choice((0,), blank=True)]
    result = tally(
        b,
        [*casts(pick(0)), *[Cast(u, c) for u, c in enumerate(bad, start=2)]],
        members=5,
        present=5,
    )
    assert (result.returned, result.valid, result.invalid, result.blank) == (5, 1, 4, 0)
    assert [r.votes for r in result.options] == [1, 0, 0]


def test_a_unit_counted_twice_is_a_bug() -> None:
    b = ballot(BallotKind.YES_NO, (YES, NO), default_rules(BallotKind.YES_NO))
    with pytest.raises(ValueError, match="counted twice"):
        tally(b, [Cast(3, pick(0)), Cast(3, pick(1))], members=5, present=5)


def test_no_ballots_returned() -> None:
    b = ballot(BallotKind.YES_NO, (YES, NO), Rules(MAJORITY, Base.CAST))
    result = tally(b, [], members=12, present=0)
    assert (result.returned, result.valid, result.invalid, result.base_count) == (0, 0, 0, 0)
    assert [(r.votes, r.percent_tenths, r.passes) for r in result.options] == [
        (0, 0, False),
        (0, 0, False),
    ]
    assert result.winners == ()


# --- award tiers: quotas, boundary ties, fewer passing -----------------------------------


AWARD_CANDIDATES = units(11, 12, 13, 14)
CA, CB, CC, CD = AWARD_CANDIDATES


def test_award_ranked_within_quota() -> None:
    b = ballot(BallotKind.AWARD, AWARD_CANDIDATES, default_rules(BallotKind.AWARD, quota=3))
    # 12 members, ≥70% of 12 needs 9 votes
    choices = [pick(0, 1, 2)] * 7 + [pick(0, 1, 3)] * 3 + [pick(1, 2)] * 1 + [pick(2, 3)] * 1
    result = tally(b, casts(*choices), members=12, present=12)
    assert [r.votes for r in result.options] == [10, 11, 9, 4]
    assert [r.percent_tenths for r in result.options] == [833, 917, 750, 333]
    assert [r.passes for r in result.options] == [True, True, True, False]
    assert result.winners == (CB, CA, CC)  # most votes first
    assert result.tie == ()
    assert result.quota == 3
    assert not result.fewer_than_quota


def test_award_equal_votes_inside_the_quota_are_no_tie() -> None:
    b = ballot(BallotKind.AWARD, AWARD_CANDIDATES, default_rules(BallotKind.AWARD, quota=3))
    choices = [pick(0, 1, 2)] * 9 + [pick(0, 1)] * 1 + [pick(3)] * 2
    result = tally(b, casts(*choices), members=12, present=12)
    assert [r.votes for r in result.options] == [10, 10, 9, 2]
    assert result.winners == (CA, CB, CC)  # A and B share 10 votes, both inside the quota
    assert result.tie == ()


def test_award_tie_at_the_quota_boundary() -> None:
    rules = Rules(MAJORITY, max_choices=2, self_vote=False, secret=True)
    b = ballot(BallotKind.AWARD, AWARD_CANDIDATES, rules)
    choices = [pick(0, 1)] * 5 + [pick(0, 2)] * 5 + [pick(1, 2)] * 4 + [pick(3)]
    result = tally(b, casts(*choices), members=15, present=15, quota=2)
    assert [r.votes for r in result.options] == [10, 9, 9, 1]
    assert [r.percent_tenths for r in result.options] == [667, 600, 600, 67]
    assert result.winners == (CA,)
    assert result.tie == (CB, CC)
    assert runoff_candidates(result) == (CB, CC)
    assert result.runoff_seats == 1
    assert not result.fewer_than_quota


def test_award_tie_swallowing_every_seat() -> None:
    rules = Rules(MAJORITY, max_choices=2)
    b = ballot(BallotKind.AWARD, AWARD_CANDIDATES, rules)
    choices = [pick(0, 1)] * 3 + [pick(1, 2)] * 3 + [pick(0, 2)] * 3 + [BLANK]
    result = tally(b, casts(*choices), members=10, present=10, quota=2)
    assert [r.votes for r in result.options] == [6, 6, 6, 0]
    assert result.winners == ()
    assert result.tie == (CA, CB, CC)
    assert result.runoff_seats == 2


def test_award_fewer_passing_than_quota() -> None:
    b = ballot(BallotKind.AWARD, AWARD_CANDIDATES, default_rules(BallotKind.AWARD, quota=3))
    choices = [pick(0, 1)] * 9 + [pick(2, 3)] * 3
    result = tally(b, casts(*choices), members=12, present=12)
    assert [r.votes for r in result.options] == [9, 9, 3, 3]
    assert result.winners == (CA, CB)
    assert result.tie == ()
    assert result.fewer_than_quota
    assert result.runoff_seats == 0


def test_award_quota_defaults_to_the_ballots_choices() -> None:
    b = ballot(BallotKind.AWARD, AWARD_CANDIDATES, default_rules(BallotKind.AWARD, quota=2))
    result = tally(b, casts(*[pick(0, 1)] * 10), members=10, present=10)
    assert result.quota == 2
    assert result.winners == (CA, CB)


def test_tier_exclusion() -> None:
    assert exclude_higher_tiers([1, 2, 3, 4, 5], [2, 5]) == (1, 3, 4)
    assert exclude_higher_tiers([5, 3, 1], {3}) == (5, 1)
    assert exclude_higher_tiers([4, 4, 2], []) == (4, 2)
    # government flag → provincial flag → PM's certificate, each tier's proposals leave the next
    members = list(range(1, 13))
    government = (7,)
    provincial = (3, 9)
    pm_candidates = exclude_higher_tiers(members, [*government, *provincial])
    assert pm_candidates == (1, 2, 4, 5, 6, 8, 10, 11, 12)


# --- leader and deputy -------------------------------------------------------------------


LEADER_CANDIDATES = units(21, 22, 23)
LA, LB, LC = LEADER_CANDIDATES


def test_leader_elected() -> None:
    b = ballot(BallotKind.LEADER, LEADER_CANDIDATES, default_rules(BallotKind.LEADER))
    result = tally(
        b, casts(*[pick(0)] * 7, *[pick(1)] * 3, pick(2), BLANK), members=12, present=12
    )
    assert [(r.votes, r.percent_tenths, r.passes) for r in result.options] == [
        (7, 583, True),
        (3, 250, False),
        (1, 83, False),
    ]
    assert result.winners == (LA,)
    assert result.tie == ()
    assert not result.fewer_than_quota


def test_leader_nobody_passes() -> None:
    b = ballot(BallotKind.LEADER, LEADER_CANDIDATES, default_rules(BallotKind.LEADER))
    result = tally(b, casts(*[pick(0)] * 6, *[pick(1)] * 6), members=12, present=12)
    assert [r.passes for r in result.options] == [False, False, False]  # 6/12 is not >50%
    assert (result.winners, result.tie, result.fewer_than_quota) == ((), (), True)


def test_leader_tie() -> None:
    rules = Rules(Threshold(1, 2, strict=False), self_vote=False, secret=True)
    b = ballot(BallotKind.DEPUTY, LEADER_CANDIDATES, rules)
    result = tally(b, casts(*[pick(0)] * 6, *[pick(2)] * 6), members=12, present=12)
    assert [(r.votes, r.passes) for r in result.options] == [(6, True), (0, False), (6, True)]
    assert result.winners == ()
    assert result.tie == (LA, LC)
    assert result.runoff_seats == 1
    assert not result.fewer_than_quota


def test_elected_leader_leaves_the_deputy_ballot() -> None:
    assert exclude_higher_tiers([21, 22, 23], [21]) == (22, 23)


# --- run-off, then score, then the secretariat ------------------------------------------


def test_runoff_decides() -> None:
    first = tally(
        ballot(BallotKind.AWARD, AWARD_CANDIDATES, Rules(MAJORITY, max_choices=2)),
        casts(*[pick(0, 1)] * 5, *[pick(0, 2)] * 5, *[pick(1, 2)] * 4, pick(3)),
        members=15,
        present=15,
        quota=2,
    )
    rules = runoff_rules(Rules(MAJORITY, max_choices=2), seats=first.runoff_seats)
    assert (rules.threshold, rules.max_choices) == (ANY_SHARE, 1)
    runoff = ballot(BallotKind.AWARD, first.tie, rules)
    result = tally(runoff, casts(*[pick(1)] * 8, *[pick(2)] * 6, BLANK), members=15, present=15)
    assert [r.votes for r in result.options] == [8, 6]
    assert result.winners == (CB,)
    assert result.tie == ()


def test_runoff_tied_again_then_score_decides() -> None:
    runoff = ballot(BallotKind.AWARD, (CB, CC), runoff_rules(Rules(MAJORITY), seats=1))
    result = tally(runoff, casts(*[pick(1)] * 7, *[pick(2)] * 7, BLANK), members=15, present=15)
    assert result.tie == (CB, CC)
    assert result.winners == ()
    chosen, still_tied = break_tie_by_score(result.tie, {12: 91_250, 13: 88_750}, seats=1)
    assert chosen == (CB,)
    assert still_tied == ()


def test_runoff_with_no_votes_is_a_tie_again() -> None:
    runoff = ballot(
        BallotKind.LEADER, (LA, LC), runoff_rules(default_rules(BallotKind.LEADER), seats=1)
    )
    result = tally(runoff, casts(BLANK, BLANK), members=12, present=12)
    assert result.tie == (LA, LC)


def test_score_tied_too_then_the_secretariat_decides() -> None:
    chosen, still_tied = break_tie_by_score((CB, CC), {12: 90_000, 13: 90_000}, seats=1)
    assert chosen == ()
    assert still_tied == (CB, CC)


@pytest.mark.parametrize(
    ("scores", "seats", "chosen", "still_tied"),
    [
        ({11: 9000, 12: 9500, 13: 9000}, 2, (CB,), (CA, CC)),
        ({11: 9000, 12: 9500, 13: 8000}, 2, (CB, CA), ()),
        ({11: 9000}, 1, (CA,), ()),  # a unit with no score ranks last
        ({}, 1, (), (CA, CB, CC)),
        ({11: 1, 12: 3, 13: 2}, 3, (CB, CC, CA), ()),
    ],
)
def test_break_tie_by_score(
    scores: dict[int, int],
    seats: int,
    chosen: tuple[Option, ...],
    still_tied: tuple[Option, ...],
) -> None:
    assert break_tie_by_score((CA, CB, CC), scores, seats) == (chosen, still_tied)


# --- quorum and reachability ------------------------------------------------------------


@pytest.mark.parametrize(
    ("quorum", "members", "present", "met", "missing"),
    [
        (TWO_THIRDS, 12, 8, True, 0),
        (TWO_THIRDS, 12, 7, False, 1),
        (TWO_THIRDS, 12, 12, True, 0),
        (TWO_THIRDS, 12, 0, False, 8),
        (TWO_THIRDS, 5, 3, False, 1),  # 2/3 of 5 is 3.33: 4 units
        (MAJORITY, 12, 6, False, 1),
        (MAJORITY, 12, 7, True, 0),
        (Threshold(1, 1, strict=False), 9, 8, False, 1),
        (TWO_THIRDS, 0, 0, False, 0),  # a bloc with no units: nobody can check in
    ],
)
def test_quorum(quorum: Threshold, members: int, present: int, met: bool, missing: int) -> None:
    rules = Rules(MAJORITY, quorum=quorum)
    assert quorum_met(rules, present=present, members=members) is met
    assert missing_for_quorum(rules, present=present, members=members) == missing


@given(any_threshold(), st.integers(1, 60), st.integers(0, 60))
def test_missing_for_quorum_is_exact(quorum: Threshold, members: int, present: int) -> None:
    rules = Rules(MAJORITY, quorum=quorum)
    missing = missing_for_quorum(rules, present=present, members=members)
    assert (missing == 0) is quorum_met(rules, present=present, members=members)
    assert quorum_met(rules, present=present + missing, members=members)
    if missing:
        assert not quorum_met(rules, present=present + missing - 1, members=members)


def award_ballot(
    n: int, threshold: Threshold, base: Base = Base.ALL_MEMBERS, *, self_vote: bool = False
) -> Ballot:
    rules = Rules(threshold, base, max_choices=1, self_vote=self_vote, secret=True)
    return ballot(BallotKind.AWARD, units(*range(1, n + 1)), rules, BallotStatus.DRAFT)


@pytest.mark.parametrize(
    ("b", "members", "present", "expected"),
    [
        (award_ballot(5, NINETY), 5, None, False),  # 4/5 = 80%
        (award_ballot(10, NINETY), 10, None, True),  # 9/10 = 90%
        (award_ballot(5, NINETY, self_vote=True), 5, None, True),
        (award_ballot(5, SEVENTY), 5, None, True),  # 4/5 ≥ 70%
        (award_ballot(3, SEVENTY), 3, None, False),  # 2/3 < 70%
        (award_ballot(10, NINETY, Base.PRESENT), 10, 5, False),  # 4 of 5 present
        (award_ballot(10, NINETY, Base.PRESENT), 10, 10, True),
        (award_ballot(10, NINETY, Base.PRESENT), 10, None, True),  # turnout not known yet
        (award_ballot(2, NINETY, Base.CAST), 2, None, True),  # the other unit alone: 1/1
        (award_ballot(1, MAJORITY, Base.VALID), 1, None, False),  # nobody may vote for it
        (ballot(BallotKind.YES_NO, (YES, NO), Rules(NINETY)), 5, None, True),
        (ballot(BallotKind.AWARD, (), Rules(MAJORITY)), 5, None, False),
    ],
)
def test_reachable(b: Ballot, members: int, present: int | None, expected: bool) -> None:
    assert reachable(b, members=members, present=present) is expected


# --- casting -----------------------------------------------------------------------------


SECRET = ballot(BallotKind.AWARD, AWARD_CANDIDATES, default_rules(BallotKind.AWARD, quota=2))
OPEN_REPORT = ballot(
    BallotKind.APPROVE_REPORT, (AGREE, DISAGREE, OTHER), default_rules(BallotKind.APPROVE_REPORT)
)
SELF_ALLOWED = ballot(BallotKind.AWARD, AWARD_CANDIDATES, Rules(SEVENTY, max_choices=2))
MEMBERS = frozenset({11, 12, 13, 14, 15})


def cast_on(
    b: Ballot,
    choice: Choice,
    *,
    unit: int | None = 15,
    observer: bool = False,
    now: datetime = DURING,
    already: bool = False,
) -> CastRejection | None:
    return check_cast(
        b,
        voter_unit_id=unit,
        is_observer=observer,
        choice=choice,
        now=now,
        eligible_unit_ids=MEMBERS,
        already_cast=already,
    )


def with_status(b: Ballot, status: BallotStatus) -> Ballot:
    return Ballot(b.id, b.kind, b.options, b.rules, b.opens_at, b.closes_at, status)


CANCELLED = with_status(SECRET, BallotStatus.CANCELLED)
CLOSED = with_status(SECRET, BallotStatus.CLOSED)
DRAFT = with_status(SECRET, BallotStatus.DRAFT)
LATE = CLOSES + timedelta(seconds=1)
JUST_BEFORE = CLOSES - timedelta(seconds=1)

REFUSALS: list[tuple[str, CastRejection, CastRejection | None]] = [
    ("cancelled", CastRejection.CANCELLED, cast_on(CANCELLED, pick(0), now=CLOSES)),
    ("closed by status", CastRejection.CLOSED, cast_on(CLOSED, pick(0))),
    ("at the closing time", CastRejection.CLOSED, cast_on(SECRET, pick(0), now=CLOSES)),
    ("after the close, still open", CastRejection.CLOSED, cast_on(SECRET, pick(0), now=LATE)),
    ("draft", CastRejection.NOT_OPEN, cast_on(DRAFT, pick(0))),
    ("observer", CastRejection.OBSERVER, cast_on(SECRET, pick(0), observer=True)),
    (
        "observer, no unit",
        CastRejection.OBSERVER,
        cast_on(SECRET, pick(0), unit=None, observer=True),
    ),
    ("member of no unit", CastRejection.NO_UNIT, cast_on(SECRET, pick(0), unit=None)),
    ("not a member unit", CastRejection.NOT_ELIGIBLE, cast_on(SECRET, pick(0), unit=99)),
    ("secret cast twice", CastRejection.ALREADY_VOTED, cast_on(SECRET, pick(0), already=True)),
    ("too many choices", CastRejection.TOO_MANY_CHOICES, cast_on(SECRET, pick(0, 1, 2))),
    ("blank and a choice", CastRejection.TOO_MANY_CHOICES, cast_on(SECRET, Choice((0,), True))),
    ("agree and disagree", CastRejection.TOO_MANY_CHOICES, cast_on(OPEN_REPORT, pick(0, 1))),
    ("not a candidate", CastRejection.NOT_A_CANDIDATE, cast_on(SECRET, pick(7))),
    ("same candidate twice", CastRejection.NOT_A_CANDIDATE, cast_on(SECRET, pick(0, 0))),
    ("own unit", CastRejection.SELF_VOTE, cast_on(SECRET, pick(1, 2), unit=12)),
    ("nothing chosen", CastRejection.EMPTY_CHOICE, cast_on(SECRET, Choice())),
    (
        "other, no text",
        CastRejection.EMPTY_CHOICE,
        cast_on(OPEN_REPORT, Choice((2,), other_text=" ")),
    ),
]


@pytest.mark.parametrize(("case", "expected", "got"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_cast_refused(case: str, expected: CastRejection, got: CastRejection | None) -> None:
    assert got is expected, case


def test_every_refusal_is_tested() -> None:
    assert {expected for _, expected, _ in REFUSALS} == set(CastRejection)


@pytest.mark.parametrize(
    ("case", "got"),
    [
        ("two candidates", cast_on(SECRET, pick(0, 1))),
        ("blank ballot", cast_on(SECRET, BLANK)),
        ("one second before the close", cast_on(SECRET, pick(0), now=JUST_BEFORE)),
        ("open ballot re-cast", cast_on(OPEN_REPORT, pick(1), already=True)),
        ("own unit when allowed", cast_on(SELF_ALLOWED, pick(0), unit=11)),
        ("other opinion", cast_on(OPEN_REPORT, Choice((2,), other_text="Bổ sung số liệu"))),
        ("blank with stray text", cast_on(OPEN_REPORT, Choice(blank=True, other_text="x"))),
    ],
)
def test_cast_accepted(case: str, got: CastRejection | None) -> None:
    assert got is None, case


# --- properties of the count -------------------------------------------------------------


@st.composite
def counted_ballots(draw: st.DrawFn) -> tuple[Ballot, list[Cast], int, int]:
    n_options = draw(st.integers(1, 6))
    max_choices = draw(st.integers(1, n_options))
    kind = draw(st.sampled_from([BallotKind.AWARD, BallotKind.LEADER]))
    if kind is BallotKind.LEADER:
        max_choices = 1
    rules = Rules(draw(any_threshold()), draw(st.sampled_from(Base)), max_choices=max_choices)
    b = ballot(kind, units(*range(101, 101 + n_options)), rules)
    members = draw(st.integers(1, 30))
    voters = draw(st.lists(st.integers(1, members), unique=True))
    choice = st.builds(
        Choice,
        st.lists(st.integers(0, n_options), max_size=max_choices + 1).map(tuple),
        st.booleans(),
    )
    cast_list = [Cast(u, draw(choice), draw(st.booleans())) for u in voters]
    present = draw(st.integers(len(voters), members))
    return b, cast_list, members, present


@given(counted_ballots())
def test_tally_counts_add_up(data: tuple[Ballot, list[Cast], int, int]) -> None:
    b, cast_list, members, present = data
    result = tally(b, cast_list, members=members, present=present)
    assert result.issued == members
    assert result.returned == len(cast_list)
    assert result.valid + result.invalid == result.returned
    assert 0 <= result.blank <= result.invalid
    assert sum(r.votes for r in result.options) <= result.valid * b.rules.max_choices
    assert all(0 <= r.votes <= result.valid for r in result.options)
    assert [r.option for r in result.options] == list(b.options)
    passing = {r.option for r in result.options if r.passes}
    assert set(result.winners) <= passing
    assert set(result.tie) <= passing
    assert not set(result.winners) & set(result.tie)
    assert len(result.winners) <= result.quota
    if result.tie:
        assert len(result.winners) < result.quota < len(result.winners) + len(result.tie)
    assert result.fewer_than_quota is (len(passing) < result.quota)


@given(counted_ballots(), st.integers(1, 30))
def test_a_unit_is_never_counted_twice(
    data: tuple[Ballot, list[Cast], int, int], unit: int
) -> None:
    b, cast_list, members, present = data
    before = tally(b, cast_list, members=members, present=present)
    again = [*cast_list, Cast(unit, Choice((0,)))]
    if unit in {c.unit_id for c in cast_list}:
        with pytest.raises(ValueError, match="counted twice"):
            tally(b, again, members=members, present=present)
        return
    after = tally(b, again, members=members + 1, present=present + 1)
    assert after.returned == before.returned + 1
    assert after.valid == before.valid + 1
    assert [a.votes - x.votes for a, x in zip(after.options, before.options, strict=True)] == [
        1 if r.option.index == 0 else 0 for r in before.options
    ]


@given(
    st.lists(st.integers(1, 50), min_size=1, max_size=8, unique=True),
    st.dictionaries(st.integers(1, 50), st.integers(0, 5)),
    st.integers(1, 8),
)
def test_break_tie_by_score_properties(
    unit_ids: list[int], scores: dict[int, int], seats: int
) -> None:
    tied = units(*unit_ids)
    chosen, still_tied = break_tie_by_score(tied, scores, seats)
    assert len(chosen) <= seats
    assert not set(chosen) & set(still_tied)
    assert set(chosen) | set(still_tied) <= set(tied)
    if still_tied:
        assert len(chosen) < seats < len(chosen) + len(still_tied)
    else:
        assert len(chosen) == min(seats, len(tied))
