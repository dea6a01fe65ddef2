"""job slot: periodic jobs exactly once across instances

`job_slot`: one row per (job, slot), inserted with ON CONFLICT DO NOTHING and claimed by
compare-and-set (tocsin/periodic.py); the daily digest and pruning run once per slot however
many instances share the store.

Revision ID: 0020
Revises: 0014
Create Date: 2026-12-02 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db

revision: str = "0020"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_slot",
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("slot_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job", "slot_at", name=op.f("pk_job_slot")),
    )


def downgrade() -> None:
    op.drop_table("job_slot")
