"""action checks: an action item may carry a check that closes it when it passes

Revision ID: 0120
Revises: 0111
Create Date: 2026-12-02 10:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tocsin.db

revision: str = "0120"
down_revision: str | None = "0111"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident_action", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "verify",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("verify_at", tocsin.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("verify_result", sa.Text(), nullable=True))
        batch_op.create_index("ix_incident_action_verify_at", ["verify_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_action", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_action_verify_at")
        batch_op.drop_column("verify_result")
        batch_op.drop_column("verify_at")
        batch_op.drop_column("verify")
