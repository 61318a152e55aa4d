"""conference and ballots

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "conference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bloc_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("held_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("locality", sa.String(length=100), nullable=False),
        sa.Column("chair_unit_id", sa.Integer(), nullable=True),
        sa.Column("chair", sa.String(length=200), nullable=False),
        sa.Column("secretary", sa.String(length=200), nullable=False),
        sa.Column("counting_board", sa.Text(), nullable=False),
        sa.Column("guests", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bloc_id"],
            ["bloc.id"],
        ),
        sa.ForeignKeyConstraint(
            ["chair_unit_id"],
            ["unit.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["identity.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conference", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conference_bloc_id"), ["bloc_id"], unique=False)

    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("checked_in_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["conference.id"],
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identity.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conference_id", "unit_id"),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_conference_id"), ["conference_id"], unique=False
        )

    op.create_table(
        "ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bloc_id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=True),
        sa.Column("tier_order", sa.Integer(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("runoff_of", sa.Integer(), nullable=True),
        sa.Column("opens_at", storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closes_at", storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bloc_id"],
            ["bloc.id"],
        ),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["conference.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["identity.id"],
        ),
        sa.ForeignKeyConstraint(
            ["runoff_of"],
            ["ballot.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_bloc_id"), ["bloc_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ballot_conference_id"), ["conference_id"], unique=False
        )

    op.create_table(
        "ballot_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ballot_id", "position"),
    )
    with op.batch_alter_table("ballot_option", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ballot_option_ballot_id"), ["ballot_id"], unique=False
        )

    op.create_table(
        "ballot_result",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("decided", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=16), nullable=False),
        sa.Column("computed_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballot.id"],
        ),
        sa.PrimaryKeyConstraint("ballot_id"),
    )
    op.create_table(
        "open_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.Text(), nullable=False),
        sa.Column("blank", sa.Boolean(), nullable=False),
        sa.Column("other_text", sa.Text(), nullable=False),
        sa.Column("written", sa.Boolean(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("cast_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identity.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ballot_id", "unit_id"),
    )
    with op.batch_alter_table("open_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_vote_ballot_id"), ["ballot_id"], unique=False)

    op.create_table(
        "vote_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("selection", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identity.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ballot_id", "unit_id", "identity_id"),
    )
    with op.batch_alter_table("vote_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vote_draft_ballot_id"), ["ballot_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("vote_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_draft_ballot_id"))

    op.drop_table("vote_draft")
    with op.batch_alter_table("open_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open_vote_ballot_id"))

    op.drop_table("open_vote")
    op.drop_table("ballot_result")
    with op.batch_alter_table("ballot_option", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_option_ballot_id"))

    op.drop_table("ballot_option")
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_conference_id"))
        batch_op.drop_index(batch_op.f("ix_ballot_bloc_id"))

    op.drop_table("ballot")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_conference_id"))

    op.drop_table("attendance")
    with op.batch_alter_table("conference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conference_bloc_id"))

    op.drop_table("conference")
