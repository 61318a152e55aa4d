"""What services return: a value per outcome; refusals carry a reason enum.

Every Reason has a message template ``refused_<reason>`` in each locale (a test checks it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from bot.core.models import Unit
from bot.core.text import clean, too_long
from bot.core.units import match_units


class Reason(enum.StrEnum):
    NOT_SECRETARIAT = "not_secretariat"
    NOT_ALLOWED_CREATE = "not_allowed_create"
    NO_BLOC = "no_bloc"
    NO_BLOC_YET = "no_bloc_yet"
    NOT_MEMBER = "not_member"
    UNKNOWN_UNIT = "unknown_unit"
    AMBIGUOUS_UNIT = "ambiguous_unit"
    UNKNOWN_BLOC = "unknown_bloc"
    UNKNOWN_MEMBER = "unknown_member"
    UNIT_KEPT = "unit_kept"  # detail: unit, unit_id, ties (core.units.UnitTie values)
    UNIT_HAS_MEMBERS = "unit_has_members"  # detail: unit, unit_id, members
    BAD_TIMEZONE = "bad_timezone"
    BAD_YEAR = "bad_year"
    BAD_KIND = "bad_kind"
    BAD_LEVEL = "bad_level"
    BAD_CODE = "bad_code"
    NAME_MISSING = "name_missing"
    BAD_MAX_USES = "bad_max_uses"
    GROUP_TAKEN = "group_taken"
    GROUP_ONLY = "group_only"
    NO_PENDING = "no_pending"
    ROTATION_INCOMPLETE = "rotation_incomplete"
    LEADER_IS_DEPUTY = "leader_is_deputy"
    NO_UNITS = "no_units"
    NO_TABLE = "no_table"
    NO_PERIOD = "no_period"
    UNKNOWN_PERIOD = "unknown_period"
    BAD_DATE = "bad_date"
    DEADLINE_PAST = "deadline_past"
    CLOSES_BEFORE_OPENS = "closes_before_opens"
    NOT_SCHEDULED = "not_scheduled"  # the tick's own: never shown to a user
    TITLE_MISSING = "title_missing"
    UNKNOWN_DEADLINE = "unknown_deadline"
    UNKNOWN_DEADLINE_NUMBER = "unknown_deadline_number"
    NOT_CUSTOM_DEADLINE = "not_custom_deadline"
    BAD_DEADLINE_KIND = "bad_deadline_kind"
    BAD_OFFSETS = "bad_offsets"
    BAD_QUIET = "bad_quiet"
    ANNOUNCE_EMPTY = "announce_empty"
    ANNOUNCE_TOO_LONG = "announce_too_long"
    ANNOUNCE_SENT = "announce_sent"
    COVENANT_EMPTY = "covenant_empty"
    COVENANT_TOO_LONG = "covenant_too_long"
    COVENANT_LOCKED = "covenant_locked"
    NO_COVENANT = "no_covenant"
    COVENANT_CHANGED = "covenant_changed"
    COVENANT_FILE_TYPE = "covenant_file_type"
    COVENANT_FILE_UNREADABLE = "covenant_file_unreadable"
    PARAGRAPH_TOO_LONG = "paragraph_too_long"
    HANDED_OUT_INCOMPLETE = "handed_out_incomplete"
    HANDED_OUT_NO_RECIPIENT = "handed_out_no_recipient"
    BAD_COUNT = "bad_count"
    TOO_MANY_HANDED_OUT = "too_many_handed_out"
    UNKNOWN_HANDED_OUT = "unknown_handed_out"
    HANDED_OUT_CHANGED = "handed_out_changed"
    NOT_ON_AGENDA = "not_on_agenda"
    BALLOTS_STILL_OPEN = "ballots_still_open"
    YEAR_ALREADY_CLOSED = "year_already_closed"
    NO_SUCH_YEAR = "no_such_year"
    BAD_PERIOD_KIND = "bad_period_kind"
    BAD_POLICY = "bad_policy"
    NO_CONFERENCE = "no_conference"
    END_BEFORE_START = "end_before_start"
    CONFERENCE_OVER = "conference_over"
    WEB_OFF = "web_off"
    BALLOTS_EXIST = "ballots_exist"
    UNKNOWN_BALLOT = "unknown_ballot"
    BALLOT_NOT_DRAFT = "ballot_not_draft"
    BALLOT_NOT_OPEN = "ballot_not_open"
    BALLOT_NOT_CLOSED = "ballot_not_closed"
    DECIDE_FIRST = "decide_first"
    SELECTION_CHANGED = "selection_changed"
    UNIT_VOTED_IN_CHAT = "unit_voted_in_chat"
    NO_QUORUM = "no_quorum"
    NO_CANDIDATES = "no_candidates"
    TOO_FEW_CANDIDATES = "too_few_candidates"
    NOT_UNIT_BALLOT = "not_unit_ballot"
    OBSERVER_NO_VOTE = "observer_no_vote"
    CAST = "cast"
    NOTHING_TO_DECIDE = "nothing_to_decide"
    NOT_TIED = "not_tied"
    BAD_CHOICE = "bad_choice"
    SECRET_NO_WRITTEN = "secret_no_written"
    BALLOT_SECRET_CHANGED = "ballot_secret_changed"
    BAD_RECEIPT = "bad_receipt"
    BAD_MAX_SIZE = "bad_max_size"
    BAD_TYPES = "bad_types"
    NOT_REPRESENTATIVE = "not_representative"
    OBSERVER_NO_REPORT = "observer_no_report"
    LATE_REFUSED = "late_refused"
    WRONG_TYPE = "wrong_type"
    TOO_LARGE = "too_large"
    EMPTY_FILE = "empty_file"
    FILE_CONTENT = "file_content"  # detail {"file": filecheck.ContentRefused}
    NOT_YOUR_DRAFT = "not_your_draft"
    NO_FILE_YET = "no_file_yet"
    INCOMPLETE = "incomplete"
    NO_SUBMISSION = "no_submission"
    COMMENT_MISSING = "comment_missing"
    COMMENT_TOO_LONG = "comment_too_long"
    TOO_LONG = "too_long"
    BAD_FIELD_COUNT = "bad_field_count"
    LINK_BAD = "link_bad"
    LINK_SELF = "link_self"
    LINK_TAKEN = "link_taken"
    LINK_CONFLICT = "link_conflict"
    LINK_RATE_LIMITED = "link_rate_limited"
    VENUE_CODE_NEEDED = "venue_code_needed"
    VENUE_CODE_WRONG = "venue_code_wrong"
    NOT_PROPOSED = "not_proposed"  # an achievement report from a unit no award ballot proposed
    NO_PROPOSALS = "no_proposals"
    ACHIEVEMENT_OPEN = "achievement_open"
    DOSSIER_TOO_LARGE = "dossier_too_large"


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: Reason
    detail: dict[str, Any] = field(default_factory=dict)


def refuse_long(field: str, text: str) -> Rejected | None:
    """A free text over its field's limit (bot.core.text.TEXT_LIMITS) as a refusal."""
    problem = too_long(field, text)
    if problem is None:
        return None
    return Rejected(
        Reason.TOO_LONG,
        {"field": problem.field, "limit": problem.limit, "length": problem.length},
    )


@dataclass(frozen=True, slots=True)
class Notice:
    """A message the bot sends on its own to some identities, rendered in each one's locale."""

    identity_ids: tuple[int, ...]
    template: str
    context: dict[str, Any]
    # (label, callback data): a label "t:key" comes from the catalog in each one's locale
    buttons: tuple[tuple[str, str], ...] = ()


MAX_CANDIDATES = 10  # units listed for an ambiguous name; the rest are counted


def pick_unit(units: list[Unit], ref: str) -> Unit | Rejected:
    """The unit a typed reference names, or why not: none matches, or several do (then the
    candidates, with their numbers in the bloc's list, which name them without doubt)."""
    matches = match_units(units, ref)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        return Rejected(Reason.UNKNOWN_UNIT, {"value": clean(ref)})
    numbers = {u.id: n for n, u in enumerate(units, 1)}
    return Rejected(
        Reason.AMBIGUOUS_UNIT,
        {
            "value": clean(ref),
            "candidates": [(numbers[u.id], u.name) for u in matches[:MAX_CANDIDATES]],
            "more": max(0, len(matches) - MAX_CANDIDATES),
        },
    )
