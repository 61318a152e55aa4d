"""issue 20: the conference's signers as persons, what the hall saw, the bloc's level

Conference: the chair's title beside the name, the memo's signer (the leader unit's head) by
name and title, the end time when the secretary enters it, the launch of next year's
movement, the delegations beyond the member units (one group per line), the awards handed
out at the conference (JSON list) and the discussion per agenda item (JSON object).
Bloc: its level (national / ministry / province / commune), the body it reports to, and the
bloc's own regulation as the memo cites it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conference") as batch:
        batch.add_column(
            sa.Column("chair_title", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("signer", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("signer_title", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("ended_at", storage.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("launch", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("delegations", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("handed_out", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("discussion", sa.Text(), nullable=False, server_default="{}"))
    with op.batch_alter_table("bloc") as batch:
        batch.add_column(sa.Column("level", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("reports_to", sa.String(length=300), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("regulation", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("bloc") as batch:
        for name in ("regulation", "reports_to", "level"):
            batch.drop_column(name)
    with op.batch_alter_table("conference") as batch:
        for name in (
            "discussion",
            "handed_out",
            "delegations",
            "launch",
            "ended_at",
            "signer_title",
            "signer",
            "chair_title",
        ):
            batch.drop_column(name)
