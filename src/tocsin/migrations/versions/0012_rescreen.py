"""rescreen: when open alerts must next be screened against a silence, window or known issue

`rescreen_at` on silence, maintenance_window and known_issue: its start (or the start of its
next occurrence) — the moment alerts already firing begin to be muted by it. The worker's
noise step reads due rows by this index (noise/rescreen.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("silence", "maintenance_window", "known_issue")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("rescreen_at", tocsin.db.UTCDateTime(timezone=True), nullable=True)
            )
            batch_op.create_index(f"ix_{table}_rescreen_at", ["rescreen_at"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_rescreen_at")
            batch_op.drop_column("rescreen_at")
