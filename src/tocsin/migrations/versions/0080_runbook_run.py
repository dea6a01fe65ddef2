"""runbook runs: one row per run of an executable block, queued rows claimed by the worker

Revision ID: 0080
Revises: 0071
Create Date: 2026-12-02 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tocsin.db

revision: str = "0080"
down_revision: str | None = "0071"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, tocsin.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "runbook_run",
        sa.Column("id", _BIG, nullable=False),
        sa.Column("runbook_id", sa.String(length=100), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("alert_id", _BIG, nullable=True),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("params", _JSON, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        _at("requested_at", nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        _at("approved_at"),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        _at("lease_until"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("started_at"),
        _at("finished_at"),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("exit_status", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("output_bytes", sa.Integer(), nullable=True),
        sa.Column("output_sha256", sa.String(length=64), nullable=True),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("tests", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runbook_run")),
    )
    with op.batch_alter_table("runbook_run", schema=None) as batch_op:
        batch_op.create_index("ix_runbook_run_due", ["state", "requested_at"], unique=False)
        batch_op.create_index(
            "ix_runbook_run_incident", ["incident_id", "runbook_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("runbook_run", schema=None) as batch_op:
        batch_op.drop_index("ix_runbook_run_incident")
        batch_op.drop_index("ix_runbook_run_due")
    op.drop_table("runbook_run")
