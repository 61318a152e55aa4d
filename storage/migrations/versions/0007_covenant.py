"""covenant

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "covenant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bloc_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bloc_id"],
            ["bloc.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["identity.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bloc_id", "year"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("covenant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_covenant_bloc_id"), ["bloc_id"], unique=False)

    op.create_table(
        "covenant_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("covenant_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["covenant_id"],
            ["covenant.id"],
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
        sa.UniqueConstraint("covenant_id", "unit_id"),
    )
    with op.batch_alter_table("covenant_signature", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_covenant_signature_covenant_id"), ["covenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("covenant_signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_covenant_signature_covenant_id"))

    op.drop_table("covenant_signature")
    with op.batch_alter_table("covenant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_covenant_bloc_id"))

    op.drop_table("covenant")
