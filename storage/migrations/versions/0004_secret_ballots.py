"""secret ballots

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_check",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "ballot_box",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("receipt_mac", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballot.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ballot_box", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_box_ballot_id"), ["ballot_id"], unique=False)

    op.create_table(
        "counted_receipt",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("receipt_mac", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballot.id"],
        ),
        sa.PrimaryKeyConstraint("ballot_id", "receipt_mac"),
    )
    op.create_table(
        "sealed_draft",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("ballot_id", "unit_id"),
    )
    op.create_table(
        "secret_register",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
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
    with op.batch_alter_table("secret_register", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secret_register_ballot_id"), ["ballot_id"], unique=False
        )

    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_check", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("publish_receipts", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("bloc", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("publish_receipts", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("bloc", schema=None) as batch_op:
        batch_op.drop_column("publish_receipts")

    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.drop_column("publish_receipts")
        batch_op.drop_column("key_check")

    with op.batch_alter_table("secret_register", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secret_register_ballot_id"))

    op.drop_table("secret_register")
    op.drop_table("sealed_draft")
    op.drop_table("counted_receipt")
    with op.batch_alter_table("ballot_box", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_box_ballot_id"))

    op.drop_table("ballot_box")
    op.drop_table("key_check")
