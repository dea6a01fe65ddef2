"""perf indexes: history baselines read check_sample by (check_name, at)

The old (check_name, fingerprint, at) index could only narrow a history read to the check,
then scanned every sample it ever stored; the history query reads all series of one check
over a window, so (check_name, at) makes it a range scan. Nothing reads by fingerprint.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 23:13:39.498644
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("check_sample", schema=None) as batch_op:
        batch_op.drop_index("ix_check_sample_series_at")
        batch_op.create_index("ix_check_sample_check_at", ["check_name", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("check_sample", schema=None) as batch_op:
        batch_op.drop_index("ix_check_sample_check_at")
        batch_op.create_index(
            "ix_check_sample_series_at", ["check_name", "fingerprint", "at"], unique=False
        )
