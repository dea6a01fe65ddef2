"""notification indexes: the claim's order, who was told of an alert, a lane's earlier rows

`told()` (every acknowledgement and resolution) read notifications by alert with no index,
a scan of the whole outbox; the sender's claim now also asks whether an earlier row of the
same alert and channel is unsent. (alert_id, channel) serves both. The due index gains `id`
so the claim reads pending rows in index order (next_attempt_at, id) instead of sorting the
whole backlog on every claim.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_lane", ["alert_id", "channel"], unique=False)
        batch_op.drop_index("ix_notification_due")
        batch_op.create_index(
            "ix_notification_due", ["state", "next_attempt_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_due")
        batch_op.create_index("ix_notification_due", ["state", "next_attempt_at"], unique=False)
        batch_op.drop_index("ix_notification_lane")
