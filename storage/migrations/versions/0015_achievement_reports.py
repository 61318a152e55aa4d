"""issue 20: achievement reports (báo cáo thành tích) for the award dossier

A report period may belong to a conference (`period.conference_id`: the achievement period
opened after its count) and be owed by some units only (`period_target`: the units proposed
for an award); a period without targets stays every unit's.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("period") as batch:
        batch.add_column(sa.Column("conference_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_period_conference_id_conference", "conference", ["conference_id"], ["id"]
        )
    op.create_table(
        "period_target",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["period_id"], ["period.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("period_id", "unit_id"),
    )


def downgrade() -> None:
    op.drop_table("period_target")
    with op.batch_alter_table("period") as batch:
        batch.drop_constraint("fk_period_conference_id_conference", type_="foreignkey")
        batch.drop_column("conference_id")
