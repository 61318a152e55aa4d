"""custom deadlines and reminder settings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "custom_deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bloc_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("due_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bloc_id"],
            ["bloc.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["identity.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("custom_deadline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_deadline_bloc_id"), ["bloc_id"], unique=False)

    op.create_table(
        "deadline_ack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("acked_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deadline_id"],
            ["custom_deadline.id"],
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
        sa.UniqueConstraint("deadline_id", "unit_id"),
    )
    with op.batch_alter_table("deadline_ack", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deadline_ack_deadline_id"), ["deadline_id"], unique=False
        )

    with op.batch_alter_table("bloc", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_settings", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bloc", schema=None) as batch_op:
        batch_op.drop_column("reminder_settings")

    with op.batch_alter_table("deadline_ack", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadline_ack_deadline_id"))

    op.drop_table("deadline_ack")
    with op.batch_alter_table("custom_deadline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_deadline_bloc_id"))

    op.drop_table("custom_deadline")
