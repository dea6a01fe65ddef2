"""status uptime day: closed days' uptime per component, cached by an hourly job

Revision ID: 0091
Revises: 0090
Create Date: 2026-12-02 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db

revision: str = "0091"
down_revision: str | None = "0090"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_uptime_day",
        sa.Column("component", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("config_key", sa.String(length=64), nullable=False),
        sa.Column("observed_s", sa.Float(), nullable=False),
        sa.Column("outage_s", sa.Float(), nullable=False),
        sa.Column("maintenance_s", sa.Float(), nullable=False),
        sa.Column("computed_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("component", "day"),
    )


def downgrade() -> None:
    op.drop_table("status_uptime_day")
