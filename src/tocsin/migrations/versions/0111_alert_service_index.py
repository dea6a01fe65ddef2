"""alert service index: the console's filter by service, newest first

`labels ->> 'service'` is the same expression in SQLite (3.38 and later) and PostgreSQL,
so one index serves the console's service filter on both without scanning every alert.

Revision ID: 0111
Revises: 0110
Create Date: 2026-12-02 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0111"
down_revision: str | None = "0110"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_alert_service_id", "alert", [sa.text("(labels ->> 'service')"), "id"])


def downgrade() -> None:
    op.drop_index("ix_alert_service_id", table_name="alert")
