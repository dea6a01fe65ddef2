"""inhibit rescreen: sources that begin after their targets mute them

`inhibit_source.rescreen_at`: set when a source row is written, cleared once the worker has
muted the targets already firing (noise/rescreen.py); the sources already indexed are due
at once, so an upgraded store mutes what they inhibit on the worker's first pass.
`inhibit_target`: the open alerts matching a rule's target matchers, keyed as
`inhibit_source`, so those targets are found by an indexed look-up; filled for open alerts
by the worker's noise seed at start. `muted_alert.ref` is indexed: a resolving source wakes
the alerts it inhibits without reading every muted alert.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import tocsin.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("inhibit_source", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rescreen_at", tocsin.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_inhibit_source_rescreen_at", ["rescreen_at"], unique=False)
    source = sa.table("inhibit_source", sa.column("rescreen_at", tocsin.db.UTCDateTime()))
    op.execute(sa.update(source).values(rescreen_at=LONG_AGO))
    op.create_table(
        "inhibit_target",
        sa.Column("rule_key", sa.String(length=40), nullable=False),
        sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("equal_key", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_inhibit_target_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_key", "alert_id", name=op.f("pk_inhibit_target")),
    )
    with op.batch_alter_table("inhibit_target", schema=None) as batch_op:
        batch_op.create_index("ix_inhibit_target_alert_id", ["alert_id"], unique=False)
        batch_op.create_index("ix_inhibit_target_lookup", ["rule_key", "equal_key"], unique=False)
    with op.batch_alter_table("muted_alert", schema=None) as batch_op:
        batch_op.create_index("ix_muted_alert_ref", ["ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("muted_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_muted_alert_ref")
    with op.batch_alter_table("inhibit_target", schema=None) as batch_op:
        batch_op.drop_index("ix_inhibit_target_lookup")
        batch_op.drop_index("ix_inhibit_target_alert_id")
    op.drop_table("inhibit_target")
    with op.batch_alter_table("inhibit_source", schema=None) as batch_op:
        batch_op.drop_index("ix_inhibit_source_rescreen_at")
        batch_op.drop_column("rescreen_at")
