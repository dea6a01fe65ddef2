"""failover: who sends a notification, what each instance runs and took over

`notification.lease_owner`: the instance whose lease a `sending` row is under (it renews the
lease while it lives, and a graceful stop hands its rows back at once).
`worker_heartbeat.schema`, `status`, `taken_over`: the schema revision the instance's code
knows, whether it works, waits for `tocsin db upgrade` or refuses a newer store, and how many
rows of dead instances it took over.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))
    with op.batch_alter_table("worker_heartbeat", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schema", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("taken_over", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("worker_heartbeat", schema=None) as batch_op:
        batch_op.drop_column("taken_over")
        batch_op.drop_column("status")
        batch_op.drop_column("schema")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("lease_owner")
