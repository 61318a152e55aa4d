"""check-in at the venue: a per-conference setting

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: the default (on when the conference has a place); true/false: set by the secretariat.
    with op.batch_alter_table("conference") as batch:
        batch.add_column(sa.Column("venue_checkin", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conference") as batch:
        batch.drop_column("venue_checkin")
