"""status subscribers: subscribers, the events fanned out to them, and their deliveries

Revision ID: 0092
Revises: 0091
Create Date: 2026-12-02 09:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tocsin.db

revision: str = "0092"
down_revision: str | None = "0091"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = tocsin.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_subscriber",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column(
            "components",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("confirmed_at", TIME, nullable=True),
        sa.Column("unsubscribed_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_subscriber_kind_address", "status_subscriber", ["kind", "address"])
    op.create_table(
        "status_notice",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "status_delivery",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subscriber_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIME, nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("sent_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["status_subscriber.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_delivery_due", "status_delivery", ["state", "next_attempt_at"])
    op.create_index(
        "ix_status_delivery_once", "status_delivery", ["subscriber_id", "event"], unique=True
    )


def downgrade() -> None:
    op.drop_table("status_delivery")
    op.drop_table("status_notice")
    op.drop_table("status_subscriber")
