"""report runs: one row per (report, trigger, slot), the scheduled ones claimed once

Revision ID: 0060
Revises: 0050
Create Date: 2026-12-02 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tocsin.db

revision: str = "0060"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("report_name", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("slot_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("schedule_key", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column(
            "figures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("posted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_run")),
        sa.UniqueConstraint("report_name", "trigger", "slot_at", name="uq_report_run_slot"),
    )
    with op.batch_alter_table("report_run", schema=None) as batch_op:
        batch_op.create_index("ix_report_run_due", ["state", "slot_at"], unique=False)
        batch_op.create_index("ix_report_run_report", ["report_name", "slot_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_run", schema=None) as batch_op:
        batch_op.drop_index("ix_report_run_report")
        batch_op.drop_index("ix_report_run_due")
    op.drop_table("report_run")
