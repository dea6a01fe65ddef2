"""on-call overrides: who covers which schedule from when to when

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 22:59:57.732857
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_override",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("start_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_override")),
    )
    with op.batch_alter_table("oncall_override", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oncall_override_schedule_end", ["schedule", "end_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oncall_override", schema=None) as batch_op:
        batch_op.drop_index("ix_oncall_override_schedule_end")
    op.drop_table("oncall_override")
