"""issue 20: the deputy unit's representative at the conference, by name and title

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conference") as batch:
        batch.add_column(
            sa.Column("deputy", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("deputy_title", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("conference") as batch:
        batch.drop_column("deputy_title")
        batch.drop_column("deputy")
