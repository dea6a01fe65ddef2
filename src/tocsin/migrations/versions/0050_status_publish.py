"""status publish: the due row of the status page's re-export

`status_publish`: one row per publish target (the folder `status.publish.path` names), due
every `status.publish.within`, leased by the worker that exports (statuspage/publish.py).

Revision ID: 0050
Revises: 0041
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db

revision: str = "0050"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_publish",
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("due_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exported_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_status_publish")),
    )


def downgrade() -> None:
    op.drop_table("status_publish")
