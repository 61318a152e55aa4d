"""Ballots and how they are counted: thresholds, bases, quorum, quotas, tiers and ties.

Every rule here is per-bloc data (the bloc's *Quy chế*), with the defaults of domain.md.
Thresholds are exact fractions compared in integer arithmetic (`votes * d > base * n`), never
floats, so "7 of 12 is more than half" is decided the same way on every machine.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from math import gcd

from bot.core.scoring import format_points
from bot.core.text import fold_diacritics


class BallotKind(enum.StrEnum):
    APPROVE_REPORT = "approve_report"
    AWARD = "award"
    LEADER = "leader"
    DEPUTY = "deputy"
    YES_NO = "yes_no"


class Base(enum.StrEnum):
    """What a threshold is counted over."""

    ALL_MEMBERS = "all_members"  # every member unit, reachable or not (the usual rule)
    PRESENT = "present"  # units checked in at the conference
    CAST = "cast"  # ballots returned
    VALID = "valid"  # valid ballots (a blank ballot is not valid)


class OptionKind(enum.StrEnum):
    UNIT = "unit"
    AGREE = "agree"
    DISAGREE = "disagree"
    OTHER = "other"
    YES = "yes"
    NO = "no"


class BallotStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# --- thresholds -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Threshold:
    """A share of a base: strict means votes/base > n/d, otherwise votes/base >= n/d.

    Two thresholds are equal when they state the same rule (">50%" == ">1/2"), whatever
    the fraction's spelling, so a parsed rule compares equal to the named constants.
    """

    numerator: int
    denominator: int
    strict: bool

    def __post_init__(self) -> None:
        if self.denominator < 1 or not 0 <= self.numerator <= self.denominator:
            raise ValueError(f"threshold {self.numerator}/{self.denominator} is not in [0, 1]")
        if self.strict and self.numerator == self.denominator:
            raise ValueError("a share strictly above 100% can never be reached")

    def _reduced(self) -> tuple[int, int]:
        g = gcd(self.numerator, self.denominator)
        return self.numerator // g, self.denominator // g

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Threshold):
            return NotImplemented
        return (
            self.strict == other.strict
            and self.numerator * other.denominator == other.numerator * self.denominator
        )

    def __hash__(self) -> int:
        return hash((self._reduced(), self.strict))

    def passes(self, votes: int, base: int) -> bool:
        """Whether `votes` out of `base` reach the share; an empty base passes nothing."""
        if base <= 0:
            return False
        if self.strict:
            return votes * self.denominator > base * self.numerator
        return votes * self.denominator >= base * self.numerator

    def min_votes(self, base: int) -> int:
        """The fewest votes out of `base` (at least 1) that reach the share."""
        if base <= 0:
            raise ValueError("a threshold needs a positive base")
        if self.strict:
            return base * self.numerator // self.denominator + 1
        return -(-base * self.numerator // self.denominator)

    def label(self) -> str:
        """The rule as people write it: ">50%", "≥2/3", "≥70%", "≥66,67%"."""
        sign = ">" if self.strict else "≥"
        n, d = self._reduced()
        if (n * 10_000) % d == 0:  # a whole percentage, or one with at most two decimals
            return f"{sign}{format_points(n * 10_000 // d)}%"
        return f"{sign}{n}/{d}"


MAJORITY = Threshold(1, 2, strict=True)
TWO_THIRDS = Threshold(2, 3, strict=False)
SEVENTY = Threshold(70, 100, strict=False)
# Run-offs rank the tied candidates; any share (even none) "passes", the ranking decides.
ANY_SHARE = Threshold(0, 1, strict=False)

_MAJORITY_WORDS = frozenset({"qua ban", "qua nua", "hon mot nua", "hon nua"})
_THRESHOLD = re.compile(
    r"^(?P<op>>=|=>|≥|⩾|>|tren|tu|it nhat|khong duoi)?\s*"
    r"(?:(?P<pct>\d{1,3})(?:[.,](?P<dec>\d{1,2}))?\s*%"
    r"|(?P<num>\d{1,4})\s*/\s*(?P<den>\d{1,4}))"
    r"\s*(?P<tail>tro len)?$"
)
_STRICT_OPS = frozenset({">", "tren"})


def parse_threshold(text: str) -> Threshold | None:
    """A threshold typed by the secretariat; a bare share ("70%", "2/3") means at least.

    Accepts ">50%", "≥2/3", ">=2/3", "≥ 90 %", "66,67%", "trên 50%", "từ 70% trở lên",
    "quá bán". Shares of zero, above 100%, or strictly above 100% are refused (None).
    """
    folded = fold_diacritics(text)
    if folded in _MAJORITY_WORDS:
        return MAJORITY
    match = _THRESHOLD.match(folded)
    if match is None:
        return None
    if match.group("pct") is not None:
        decimals = (match.group("dec") or "").ljust(2, "0")
        numerator, denominator = int(match.group("pct") + decimals), 10_000
    else:
        numerator, denominator = int(match.group("num")), int(match.group("den"))
    strict = match.group("op") in _STRICT_OPS
    if denominator == 0 or numerator == 0 or numerator > denominator:
        return None
    if strict and numerator == denominator:
        return None
    g = gcd(numerator, denominator)
    return Threshold(numerator // g, denominator // g, strict=strict)


def percent_tenths(votes: int, base: int) -> int:
    """votes/base as tenths of a percent, rounded half up (7 of 12 -> 583); 0 on an empty base."""
    if base <= 0:
        return 0
    return (votes * 2000 + base) // (2 * base)


# --- ballots --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Option:
    """One line of a ballot: a candidate unit, or agree / disagree / other / yes / no."""

    index: int
    kind: OptionKind
    unit_id: int | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class Rules:
    """How one ballot is decided (the bloc's rules, copied onto the ballot when created)."""

    threshold: Threshold
    base: Base = Base.ALL_MEMBERS
    max_choices: int = 1
    self_vote: bool = True
    secret: bool = False
    quorum: Threshold = TWO_THIRDS

    def __post_init__(self) -> None:
        if self.max_choices < 1:
            raise ValueError("a ballot allows at least one choice")


def default_rules(kind: BallotKind, *, quota: int = 1) -> Rules:
    """domain.md defaults: report and yes/no >50% open; leader, deputy >50% and awards ≥70%
    secret, without voting for oneself; an award tier allows up to its quota of choices."""
    if kind is BallotKind.AWARD:
        return Rules(SEVENTY, max_choices=quota, self_vote=False, secret=True)
    if kind in (BallotKind.LEADER, BallotKind.DEPUTY):
        return Rules(MAJORITY, max_choices=1, self_vote=False, secret=True)
    return Rules(MAJORITY, max_choices=1, self_vote=True, secret=False)


def runoff_rules(rules: Rules, *, seats: int) -> Rules:
    """A run-off among tied candidates: same base, secrecy and self-vote, choose up to the
    open seats, and no threshold (the tied candidates already passed it; votes only rank)."""
    return Rules(
        threshold=ANY_SHARE,
        base=rules.base,
        max_choices=seats,
        self_vote=rules.self_vote,
        secret=rules.secret,
        quorum=rules.quorum,
    )


@dataclass(frozen=True, slots=True)
class Ballot:
    id: int
    kind: BallotKind
    options: tuple[Option, ...]
    rules: Rules
    opens_at: datetime | None
    closes_at: datetime | None
    status: BallotStatus

    def __post_init__(self) -> None:
        indices = [o.index for o in self.options]
        if len(set(indices)) != len(indices):
            raise ValueError(f"ballot {self.id} has duplicate option indices {indices}")

    def option(self, index: int) -> Option | None:
        return next((o for o in self.options if o.index == index), None)


@dataclass(frozen=True, slots=True)
class Choice:
    """What one unit marked: option indices, or the blank ballot (Phiếu trắng)."""

    options: tuple[int, ...] = ()
    blank: bool = False
    other_text: str = ""  # read only with an OTHER option ("ý kiến khác")


def same_choice(a: Choice, b: Choice) -> bool:
    """Two markings are one vote: the same options in any order, both blank or neither, and
    the same text for "ý kiến khác" (a re-cast of it changes nothing)."""
    return (set(a.options), a.blank, a.other_text) == (set(b.options), b.blank, b.other_text)


class CastRejection(enum.StrEnum):
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    NO_UNIT = "no_unit"
    OBSERVER = "observer"
    NOT_ELIGIBLE = "not_eligible"
    TOO_MANY_CHOICES = "too_many_choices"
    NOT_A_CANDIDATE = "not_a_candidate"
    SELF_VOTE = "self_vote"
    EMPTY_CHOICE = "empty_choice"
    ALREADY_VOTED = "already_voted"


def _choice_problem(ballot: Ballot, choice: Choice) -> CastRejection | None:
    """What makes a marked ballot unusable, whoever cast it (self-vote aside)."""
    if choice.blank:
        return CastRejection.TOO_MANY_CHOICES if choice.options else None
    if not choice.options:
        return CastRejection.EMPTY_CHOICE
    if len(set(choice.options)) != len(choice.options):
        return CastRejection.NOT_A_CANDIDATE
    chosen = [ballot.option(i) for i in choice.options]
    if any(o is None for o in chosen):
        return CastRejection.NOT_A_CANDIDATE
    if len(choice.options) > ballot.rules.max_choices:
        return CastRejection.TOO_MANY_CHOICES
    if any(o is not None and o.kind is OptionKind.OTHER for o in chosen) and not (
        choice.other_text.strip()
    ):
        return CastRejection.EMPTY_CHOICE  # "ý kiến khác" says nothing without its text
    return None


def check_cast(
    ballot: Ballot,
    *,
    voter_unit_id: int | None,
    is_observer: bool,
    choice: Choice,
    now: datetime,
    eligible_unit_ids: frozenset[int],
    already_cast: bool,
) -> CastRejection | None:
    """Why a unit may not cast this choice now, or None: one vote per member unit, only while
    open (never once `now >= closes_at`), a secret ballot only once, within the choices."""
    if ballot.status is BallotStatus.CANCELLED:
        return CastRejection.CANCELLED
    if ballot.status is BallotStatus.CLOSED or (
        ballot.closes_at is not None and now >= ballot.closes_at
    ):
        return CastRejection.CLOSED
    if ballot.status is not BallotStatus.OPEN:
        return CastRejection.NOT_OPEN
    if is_observer:
        return CastRejection.OBSERVER
    if voter_unit_id is None:
        return CastRejection.NO_UNIT
    if voter_unit_id not in eligible_unit_ids:
        return CastRejection.NOT_ELIGIBLE
    if ballot.rules.secret and already_cast:
        return CastRejection.ALREADY_VOTED
    problem = _choice_problem(ballot, choice)
    if problem is not None:
        return problem
    if not ballot.rules.self_vote and any(
        (o := ballot.option(i)) is not None and o.unit_id == voter_unit_id for i in choice.options
    ):
        return CastRejection.SELF_VOTE
    return None


# --- counting -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cast:
    unit_id: int
    choice: Choice
    valid: bool = True  # paper ballots entered by the secretariat may be invalid


@dataclass(frozen=True, slots=True)
class OptionResult:
    option: Option
    votes: int
    percent_tenths: int  # of the base, in tenths of a percent, rounded half up
    passes: bool


@dataclass(frozen=True, slots=True)
class TallyResult:
    """The vote-count record's numbers (biên bản kiểm phiếu) and who is proposed."""

    issued: int
    returned: int
    valid: int
    invalid: int  # blanks included
    blank: int
    base: Base
    base_count: int
    options: tuple[OptionResult, ...]  # in ballot order
    winners: tuple[Option, ...]  # ranked, most votes first
    tie: tuple[Option, ...]  # tied at the seat boundary: they run off (ballot order)
    fewer_than_quota: bool  # fewer passed than there are seats; no further round
    quota: int = 1  # seats decided by this ballot

    @property
    def runoff_seats(self) -> int:
        """Seats the run-off among `tie` decides (0 when there is no tie)."""
        return self.quota - len(self.winners) if self.tie else 0


def _seats(ballot: Ballot, quota: int | None) -> int:
    if ballot.kind is BallotKind.AWARD:
        seats = ballot.rules.max_choices if quota is None else quota
        if seats < 1:
            raise ValueError("an award tier has a quota of at least one")
        return seats
    return 1


def _rank(
    results: Sequence[OptionResult], seats: int
) -> tuple[tuple[Option, ...], tuple[Option, ...]]:
    """(winners, tie): the best `seats` by votes; a group tied across the boundary runs off."""
    ranked = sorted(results, key=lambda r: -r.votes)  # stable: ballot order among equals
    if len(ranked) <= seats or ranked[seats - 1].votes != ranked[seats].votes:
        return tuple(r.option for r in ranked[:seats]), ()
    boundary = ranked[seats].votes
    winners = tuple(r.option for r in ranked if r.votes > boundary)
    tie = tuple(r.option for r in results if r.votes == boundary)
    return winners, tie


def tally(
    ballot: Ballot,
    casts: Sequence[Cast],
    *,
    members: int,
    present: int,
    quota: int | None = None,
) -> TallyResult:
    """Count the returned ballots against the ballot's base and threshold.

    A blank ballot is returned and not valid; so is a paper ballot marked invalid or one
    whose marks are unusable. Report approval and yes/no pass when agree/yes passes; leader
    and deputy elect the passing unit with most votes; an award tier proposes passing units
    by votes up to its quota (`quota`, default the ballot's max choices). A tie at the seat
    boundary goes to a run-off; fewer passing than seats is stated, with no further round.
    A unit appearing twice is a bug upstream (one ballot per unit per vote): ValueError.
    """
    units = [c.unit_id for c in casts]
    if len(set(units)) != len(units):
        raise ValueError(f"ballot {ballot.id}: a unit was counted twice")
    votes = {o.index: 0 for o in ballot.options}
    blank = invalid = 0
    for cast in casts:
        if cast.valid and cast.choice.blank and not cast.choice.options:
            blank += 1
            invalid += 1
        elif not cast.valid or _choice_problem(ballot, cast.choice) is not None:
            invalid += 1
        else:
            for index in cast.choice.options:
                votes[index] += 1
    returned = len(casts)
    valid = returned - invalid
    base_count = {
        Base.ALL_MEMBERS: members,
        Base.PRESENT: present,
        Base.CAST: returned,
        Base.VALID: valid,
    }[ballot.rules.base]
    threshold = ballot.rules.threshold
    results = tuple(
        OptionResult(
            option=o,
            votes=votes[o.index],
            percent_tenths=percent_tenths(votes[o.index], base_count),
            passes=threshold.passes(votes[o.index], base_count),
        )
        for o in ballot.options
    )
    seats = _seats(ballot, quota)
    if ballot.kind in (BallotKind.APPROVE_REPORT, BallotKind.YES_NO):
        contenders = [r for r in results if r.option.kind in (OptionKind.AGREE, OptionKind.YES)]
    else:
        contenders = list(results)
    passing = [r for r in contenders if r.passes]
    winners, tie = _rank(passing, seats)
    return TallyResult(
        issued=members,
        returned=returned,
        valid=valid,
        invalid=invalid,
        blank=blank,
        base=ballot.rules.base,
        base_count=base_count,
        options=results,
        winners=winners,
        tie=tie,
        fewer_than_quota=len(passing) < seats,
        quota=seats,
    )


def runoff_candidates(result: TallyResult) -> tuple[Option, ...]:
    """The tied candidates who run off (none when the count decided every seat)."""
    return result.tie


def break_tie_by_score(
    tied: Sequence[Option], scores: Mapping[int, int], seats: int
) -> tuple[tuple[Option, ...], tuple[Option, ...]]:
    """After a run-off tied again the bloc's score total (centipoints, higher first) decides.

    Returns (chosen, still_tied): `still_tied` is what the secretariat decides, non-empty when
    the totals themselves tie across the boundary. A unit with no score ranks below any score.
    """
    if seats < 1:
        raise ValueError("a tie-break decides at least one seat")

    def key(option: Option) -> tuple[int, int]:
        score = scores.get(option.unit_id) if option.unit_id is not None else None
        return (0, 0) if score is None else (1, score)

    ranked = sorted(tied, key=key, reverse=True)  # stable: input order among equals
    if len(ranked) <= seats or key(ranked[seats - 1]) != key(ranked[seats]):
        return tuple(ranked[:seats]), ()
    boundary = key(ranked[seats])
    chosen = tuple(o for o in ranked if key(o) > boundary)
    still_tied = tuple(o for o in tied if key(o) == boundary)
    return chosen, still_tied


# --- quorum, reachability, tiers ------------------------------------------------------


def quorum_met(rules: Rules, *, present: int, members: int) -> bool:
    """A ballot opens only when enough member units have checked in (default 2/3)."""
    return rules.quorum.passes(present, members)


def missing_for_quorum(rules: Rules, *, present: int, members: int) -> int:
    """How many more units must check in before the quorum is met (0 when it is, or when
    the bloc has no members and nobody can check in)."""
    if members <= 0:
        return 0
    return max(0, rules.quorum.min_votes(members) - present)


def reachable(ballot: Ballot, *, members: int, present: int | None = None) -> bool:
    """Whether any option could pass with the most favourable turnout, e.g. ≥90% of all
    members with self-vote forbidden is out of reach in a bloc of 5 (4/5 = 80%)."""
    rules = ballot.rules
    voters = present if rules.base is Base.PRESENT and present is not None else members
    for option in ballot.options:
        most = voters
        if option.unit_id is not None and not rules.self_vote:
            most -= 1
        base_count = {
            Base.ALL_MEMBERS: members,
            Base.PRESENT: voters,
            Base.CAST: most,
            Base.VALID: most,
        }[rules.base]
        if rules.threshold.passes(most, base_count):
            return True
    return False


def exclude_higher_tiers(
    candidates: Sequence[int], proposed_higher: Iterable[int]
) -> tuple[int, ...]:
    """A unit proposed at a higher award tier is not a candidate at a lower one (order kept,
    duplicates dropped); also used to take the elected leader off the deputy ballot."""
    excluded = set(proposed_higher)
    kept: list[int] = []
    for unit_id in candidates:
        if unit_id not in excluded and unit_id not in kept:
            kept.append(unit_id)
    return tuple(kept)
