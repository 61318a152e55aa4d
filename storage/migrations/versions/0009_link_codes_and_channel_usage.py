"""link codes and channel usage

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("link_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_link_code_identity_id"), ["identity_id"], unique=False
        )

    op.create_table(
        "channel_usage",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("warned_at", storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("platform", "month"),
    )


def downgrade() -> None:
    op.drop_table("channel_usage")
    with op.batch_alter_table("link_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_code_identity_id"))
    op.drop_table("link_code")
