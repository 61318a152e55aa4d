"""summary paragraphs

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conference", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("summary_movements", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("summary_closing", sa.Text(), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("conference", schema=None) as batch_op:
        batch_op.drop_column("summary_closing")
        batch_op.drop_column("summary_movements")
