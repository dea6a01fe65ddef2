"""noise2: inhibit_source, the index of open alerts that could inhibit others

One row per (inhibit rule, open source alert) with the hash of the source's `equal` label
values, so a new target alert finds its possible inhibitors by an indexed look-up instead
of reading every open alert (noise/inhibition.py). Filled for alerts already open by the
worker's noise seed at start.

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-24 00:25:25.923191
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inhibit_source",
        sa.Column("rule_key", sa.String(length=40), nullable=False),
        sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("equal_key", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_inhibit_source_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_key", "alert_id", name=op.f("pk_inhibit_source")),
    )
    with op.batch_alter_table("inhibit_source", schema=None) as batch_op:
        batch_op.create_index("ix_inhibit_source_alert_id", ["alert_id"], unique=False)
        batch_op.create_index("ix_inhibit_source_lookup", ["rule_key", "equal_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inhibit_source", schema=None) as batch_op:
        batch_op.drop_index("ix_inhibit_source_lookup")
        batch_op.drop_index("ix_inhibit_source_alert_id")

    op.drop_table("inhibit_source")
