"""SQLModel tables. Rows never leave `storage/`: repositories map them to core values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime


def _ts(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable, index=index)


class IdentityRow(SQLModel, table=True):
    __tablename__ = "identity"

    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(max_length=200)
    locale: str = Field(default="vi", max_length=8)
    current_bloc_id: int | None = Field(default=None, foreign_key="bloc.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_column=_ts())


class AccountRow(SQLModel, table=True):
    """A chat account (Telegram or Zalo) through which an identity acts."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    username: str | None = Field(default=None, max_length=64)
    unreachable: bool = Field(default=False)


class BlocRow(SQLModel, table=True):
    __tablename__ = "bloc"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=8)
    year: int
    code: str = Field(max_length=40)
    timezone: str = Field(max_length=64)
    leader_unit_id: int | None = Field(default=None)
    deputy_unit_id: int | None = Field(default=None)
    group_chat_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, unique=True)
    )
    # Opt-in: publish receipt code -> choice after a secret ballot closes (makes votes provable).
    publish_receipts: bool = Field(default=False)
    # Reminder offsets per kind and quiet hours as JSON; NULL: the defaults (domain.md).
    reminder_settings: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Its level (core.models.BlocLevel; NULL: not said), the body it reports to (the memo's
    # "Kính gửi"; empty: the level's default) and its own regulation as the memo cites it.
    level: str | None = Field(default=None, max_length=16, nullable=True)
    reports_to: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    regulation: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(sa_column=_ts())


class UnitRow(SQLModel, table=True):
    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("bloc_id", "name_key"),
        UniqueConstraint("bloc_id", "short_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    short_name: str = Field(max_length=40)
    short_key: str = Field(max_length=40)
    contact: str = Field(default="", max_length=200)
    rotation_order: int | None = Field(default=None)
    created_at: datetime = Field(sa_column=_ts())


class MembershipRow(SQLModel, table=True):
    """One identity's place in one bloc: at most one unit, any set of roles."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("identity_id", "bloc_id"),)

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    is_secretariat: bool = Field(default=False)
    is_representative: bool = Field(default=False)
    is_observer: bool = Field(default=False)
    joined_at: datetime = Field(sa_column=_ts())


class InviteRow(SQLModel, table=True):
    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    role: str = Field(max_length=16)
    code_hash: str = Field(max_length=64, unique=True)
    max_uses: int = Field(default=1)
    uses: int = Field(default=0)
    created_by: int | None = Field(default=None, foreign_key="identity.id")
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_reason: str | None = Field(default=None, max_length=32)


class PendingJoinRow(SQLModel, table=True):
    """A valid invite held while its user confirms leaving another unit of the same bloc."""

    __tablename__ = "pending_join"

    identity_id: int = Field(primary_key=True, foreign_key="identity.id")
    invite_id: int = Field(foreign_key="invite.id")
    created_at: datetime = Field(sa_column=_ts())


class FailedCodeRow(SQLModel, table=True):
    """A wrong invite code, kept to rate-limit guessing per sender."""

    __tablename__ = "failed_code"
    __table_args__ = (Index("ix_failed_code_sender_at", "platform", "external_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    at: datetime = Field(sa_column=_ts())


class AuditRow(SQLModel, table=True):
    """Append-only, chained per bloc (design decision 13)."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("bloc_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    seq: int
    at: datetime = Field(sa_column=_ts())
    actor_identity_id: int | None = Field(default=None)
    unit_id: int | None = Field(default=None)
    action: str = Field(max_length=64)
    details: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    row_hash: str = Field(max_length=64)


class AuditHeadRow(SQLModel, table=True):
    """The per-bloc lock row and latest hash; appending locks it first. `mac` binds the hash
    to its position (bloc, seq) under AUDIT_KEY: moving the head back needs the key."""

    __tablename__ = "audit_head"

    bloc_id: int = Field(primary_key=True, foreign_key="bloc.id")
    seq: int = Field(default=0)
    head_hash: str = Field(max_length=64)
    mac: str | None = Field(default=None, max_length=64)


class ScoringTableRow(SQLModel, table=True):
    """One version of a bloc's scoring table for a year; a period keeps the one it opened with."""

    __tablename__ = "scoring_table"
    __table_args__ = (UniqueConstraint("bloc_id", "year", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    version: int
    title: str = Field(max_length=300)
    items: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of items
    bonus_cap_cp: int
    penalty_cap_cp: int
    created_by: int | None = Field(default=None, foreign_key="identity.id")
    created_at: datetime = Field(sa_column=_ts())


class PeriodRow(SQLModel, table=True):
    """A report period (kỳ báo cáo): mid-year review or year-end, with its deadline."""

    __tablename__ = "period"

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    kind: str = Field(max_length=16)
    title: str = Field(max_length=300)
    deadline: datetime = Field(sa_column=_ts())
    late_policy: str = Field(max_length=16)
    max_bytes: int
    accepted_types: str = Field(max_length=200)
    table_id: int = Field(foreign_key="scoring_table.id")
    created_by: int | None = Field(default=None, foreign_key="identity.id")
    created_at: datetime = Field(sa_column=_ts())
    # An achievement period (báo cáo thành tích): the conference whose award ballots proposed
    # the units that owe a report (its targets, `period_target`).
    conference_id: int | None = Field(default=None, foreign_key="conference.id")


class PeriodTargetRow(SQLModel, table=True):
    """A unit that owes a report in a period limited to some units (an achievement period:
    the units proposed for an award). A period without targets is every unit's."""

    __tablename__ = "period_target"

    period_id: int = Field(foreign_key="period.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)


class ReportDraftRow(SQLModel, table=True):
    """A submission being prepared by one person for one unit: its file, then its scores."""

    __tablename__ = "report_draft"
    # Draft ids travel in buttons: SQLite must not hand a deleted draft's id to a new one.
    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", "identity_id", "purpose"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    identity_id: int = Field(foreign_key="identity.id")
    purpose: str = Field(default="submit", max_length=16)  # submit | review
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    on_behalf: bool = Field(default=False)
    file_sha256: str | None = Field(default=None, max_length=64)
    file_name: str | None = Field(default=None, max_length=255)
    file_size: int | None = Field(default=None)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class SubmissionRow(SQLModel, table=True):
    """One version of a unit's report for a period; the latest version counts."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("period_id", "unit_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    version: int
    submitted_by: int = Field(foreign_key="identity.id")
    uploaded_by: int = Field(foreign_key="identity.id")
    on_behalf: bool = Field(default=False)
    file_sha256: str = Field(max_length=64)
    file_name: str = Field(max_length=255)
    file_size: int
    late: bool = Field(default=False)
    submitted_at: datetime = Field(sa_column=_ts())
    self_total_cp: int
    reviewed_total_cp: int | None = Field(default=None)
    reviewed_by: int | None = Field(default=None, foreign_key="identity.id")
    reviewed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    returned_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    return_comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resubmit_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ScoreEntryRow(SQLModel, table=True):
    """One item's points: a draft answer, a submitted self-score or a reviewed score."""

    __tablename__ = "score_entry"
    __table_args__ = (
        UniqueConstraint("draft_id", "code"),
        UniqueConstraint("submission_id", "kind", "code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int | None = Field(
        default=None, foreign_key="report_draft.id", index=True, ondelete="CASCADE"
    )
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    kind: str = Field(max_length=16)  # draft | self | reviewed
    code: str = Field(max_length=40)
    value_cp: int


class ConferenceRow(SQLModel, table=True):
    """The year-end conference (hội nghị tổng kết) where the bloc votes."""

    __tablename__ = "conference"

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    held_at: datetime = Field(sa_column=_ts())
    place: str = Field(max_length=300)
    locality: str = Field(default="", max_length=100)  # địa danh of the date line
    chair_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    chair: str = Field(default="", max_length=200)  # a person's name
    chair_title: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    # Who signs the memo for the bloc (the leader unit's head); empty: the chair.
    signer: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    signer_title: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    # The deputy unit's representative (named in the minutes with the role).
    deputy: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    deputy_title: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    launch: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    delegations: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    handed_out: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, server_default="[]")
    )  # JSON list of the awards handed out in the hall
    discussion: str = Field(
        default="{}", sa_column=Column(Text, nullable=False, server_default="{}")
    )  # JSON object: agenda item -> the secretary's text
    secretary: str = Field(default="", max_length=200)
    counting_board: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    guests: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Check-in needs the hall screen's code: None = the default (on when there is a place).
    venue_checkin: bool | None = Field(default=None, nullable=True)
    # The summary article's paragraphs written by the secretariat (the rest is from data).
    summary_movements: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    summary_closing: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    created_by: int | None = Field(default=None, foreign_key="identity.id")
    created_at: datetime = Field(sa_column=_ts())


class AttendanceRow(SQLModel, table=True):
    """A unit checked in at the conference (điểm danh)."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("conference_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    identity_id: int = Field(foreign_key="identity.id")
    checked_in_at: datetime = Field(sa_column=_ts())


class BallotRow(SQLModel, table=True):
    """One vote of the conference: its kind, rules (data, not code), times and state."""

    __tablename__ = "ballot"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids travel in buttons

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    conference_id: int | None = Field(default=None, foreign_key="conference.id", index=True)
    kind: str = Field(max_length=16)
    title: str = Field(max_length=300)
    tier: str | None = Field(default=None, max_length=32)  # award tier key
    tier_order: int = Field(default=0)
    quota: int = Field(default=1)
    rules: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    status: str = Field(default="draft", max_length=16)
    runoff_of: int | None = Field(default=None, foreign_key="ballot.id")
    opens_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closes_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    cancelled_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Secret ballots: the key-check value of the ballot key, set when it opens.
    key_check: str | None = Field(default=None, max_length=64)
    # The bloc's receipt policy as it stood when the ballot opened (voters were told it).
    publish_receipts: bool = Field(default=False)
    created_by: int | None = Field(default=None, foreign_key="identity.id")
    created_at: datetime = Field(sa_column=_ts())


class BallotOptionRow(SQLModel, table=True):
    __tablename__ = "ballot_option"
    __table_args__ = (UniqueConstraint("ballot_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    position: int
    kind: str = Field(max_length=16)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    label: str = Field(default="", max_length=300)


class OpenVoteRow(SQLModel, table=True):
    """An open ballot (biểu quyết) cast for a unit: one row per unit, the last choice counts."""

    __tablename__ = "open_vote"
    __table_args__ = (UniqueConstraint("ballot_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    identity_id: int = Field(foreign_key="identity.id")
    choice: str = Field(sa_column=Column(Text, nullable=False))  # JSON option positions
    blank: bool = Field(default=False)
    other_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    written: bool = Field(default=False)  # the secretariat recorded the unit's written vote
    valid: bool = Field(default=True)
    cast_at: datetime = Field(sa_column=_ts())


class VoteDraftRow(SQLModel, table=True):
    """A multi-select choice being built tap by tap, kept on the server (never in buttons)."""

    __tablename__ = "vote_draft"
    __table_args__ = (UniqueConstraint("ballot_id", "unit_id", "identity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    identity_id: int = Field(foreign_key="identity.id")
    selection: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    version: int = Field(default=0)
    updated_at: datetime = Field(sa_column=_ts())


class BallotResultRow(SQLModel, table=True):
    """The count of a closed ballot and how it was decided."""

    __tablename__ = "ballot_result"

    ballot_id: int = Field(primary_key=True, foreign_key="ballot.id")
    result: str = Field(sa_column=Column(Text, nullable=False))  # JSON of the tally
    decided: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # unit ids
    decided_by: str = Field(default="vote", max_length=16)  # vote | runoff | score | secretariat
    computed_at: datetime = Field(sa_column=_ts())


# --- secret ballots (design decision 4) -------------------------------------------------------


class SecretRegisterRow(SQLModel, table=True):
    """Who has voted in a secret ballot: the unit, never its choice. Unique per ballot."""

    __tablename__ = "secret_register"
    __table_args__ = (UniqueConstraint("ballot_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    identity_id: int = Field(foreign_key="identity.id")
    cast_at: datetime = Field(sa_column=_ts())


class BallotBoxRow(SQLModel, table=True):
    """The box: a random id, HMAC(ballot key, receipt code) and the sealed, padded choice.
    Nothing here names a unit; the rows are purged when the ballot is counted."""

    __tablename__ = "ballot_box"

    id: str = Field(primary_key=True, max_length=32)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    receipt_mac: str = Field(max_length=64)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class SealedDraftRow(SQLModel, table=True):
    """A secret multi-choice selection being built, sealed like the box, per ballot and unit;
    replaced under a row lock on each tap, deleted in the cast transaction."""

    __tablename__ = "sealed_draft"

    ballot_id: int = Field(primary_key=True, foreign_key="ballot.id")
    unit_id: int = Field(primary_key=True, foreign_key="unit.id")
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    version: int = Field(default=0)


class CountedReceiptRow(SQLModel, table=True):
    """HMACs of the receipts a closed secret ballot counted, written in random order."""

    __tablename__ = "counted_receipt"

    ballot_id: int = Field(primary_key=True, foreign_key="ballot.id")
    receipt_mac: str = Field(primary_key=True, max_length=64)


class KeyCheckRow(SQLModel, table=True):
    """Key-check values of secrets kept outside the database (a changed secret is caught)."""

    __tablename__ = "key_check"

    name: str = Field(primary_key=True, max_length=32)
    value: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts())


# --- the outbox (design decisions 9 and 10) ------------------------------------------------------


class OutboxRow(SQLModel, table=True):
    """A message the bot sends on its own (reminders, digests, announcements), rendered in the
    recipient's locale. `dedup_key` is built by its producer: one row per reminder and person.
    Claimed with a lease, sent, then marked: only rows in flight at a crash can go twice."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "failed_at", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=200, unique=True)
    bloc_id: int | None = Field(default=None, foreign_key="bloc.id")
    identity_id: int | None = Field(default=None, foreign_key="identity.id")
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    is_group: bool = Field(default=False)
    text: str = Field(sa_column=Column(Text, nullable=False))
    buttons: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON
    not_before: datetime = Field(sa_column=_ts())
    claimed_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    claimed_by: str | None = Field(default=None, max_length=64)
    attempts: int = Field(default=0)
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    failed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_error: str = Field(default="", max_length=300)
    created_at: datetime = Field(sa_column=_ts())


class CustomDeadlineRow(SQLModel, table=True):
    """A deadline the secretariat adds (/deadlines add); units acknowledge it with a button."""

    __tablename__ = "custom_deadline"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids travel in buttons

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    title: str = Field(max_length=300)
    due_at: datetime = Field(sa_column=_ts())
    created_by: int | None = Field(default=None, foreign_key="identity.id")
    created_at: datetime = Field(sa_column=_ts())
    cancelled_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class DeadlineAckRow(SQLModel, table=True):
    """A unit has acknowledged a custom deadline (once per unit; who and when)."""

    __tablename__ = "deadline_ack"
    __table_args__ = (UniqueConstraint("deadline_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="custom_deadline.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    identity_id: int = Field(foreign_key="identity.id")
    acked_at: datetime = Field(sa_column=_ts())


class CovenantRow(SQLModel, table=True):
    """Next year's emulation covenant (giao ước thi đua) of a bloc: its text, set by the
    secretariat, and the date by which units sign it."""

    __tablename__ = "covenant"
    __table_args__ = (UniqueConstraint("bloc_id", "year"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    due_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_by: int | None = Field(default=None, foreign_key="identity.id")
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class CovenantSignatureRow(SQLModel, table=True):
    """A unit signed the covenant: who, when, and the SHA-256 of the text signed (final)."""

    __tablename__ = "covenant_signature"
    __table_args__ = (UniqueConstraint("covenant_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    covenant_id: int = Field(foreign_key="covenant.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    identity_id: int = Field(foreign_key="identity.id")
    text_sha256: str = Field(max_length=64)
    signed_at: datetime = Field(sa_column=_ts())


class LinkCodeRow(SQLModel, table=True):
    """A one-time code from /me that links another chat account (Telegram ↔ Zalo) to the
    identity that asked for it. Only its SHA-256 is kept; used once, valid minutes."""

    __tablename__ = "link_code"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ChannelUsageRow(SQLModel, table=True):
    """Messages the bot sent on a platform in a month (Zalo's monthly quota), and when the
    secretariat was warned that the quota runs low."""

    __tablename__ = "channel_usage"

    platform: str = Field(max_length=16, primary_key=True)
    month: str = Field(max_length=7, primary_key=True)  # YYYY-MM in UTC
    sent: int = Field(default=0)
    warned_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class WebSignInRow(SQLModel, table=True):
    """A one-time sign-in link to the web companion, asked for in chat by an account. Only
    its hash is kept; used once, valid ten minutes."""

    __tablename__ = "web_signin"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class WebSessionRow(SQLModel, table=True):
    """A signed-in browser: the cookie's hash, whose account it is, its CSRF token, and when
    it was last used (sessions live here so that every worker knows them)."""

    __tablename__ = "web_session"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    csrf: str = Field(max_length=64)
    mini_app: bool = Field(default=False)
    created_at: datetime = Field(sa_column=_ts())
    last_seen: datetime = Field(sa_column=_ts())


class HallScreenRow(SQLModel, table=True):
    """A read-only link for the conference hall's projector, issued by the secretariat. Only
    its hash is kept; valid until the end of the conference day, or until revoked."""

    __tablename__ = "hall_screen"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    created_by: int = Field(foreign_key="identity.id")
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
