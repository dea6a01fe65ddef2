"""incident post-mortems: the draft on the incident, its 48 h reminder, and action items

`incident.postmortem_due_at` and `incident_action.remind_at` are due columns the worker claims.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_action",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("due_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("done_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=100), nullable=True),
        sa.Column("remind_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_action_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_action")),
    )
    with op.batch_alter_table("incident_action", schema=None) as batch_op:
        batch_op.create_index("ix_incident_action_incident_id", ["incident_id"], unique=False)
        batch_op.create_index("ix_incident_action_remind_at", ["remind_at"], unique=False)

    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postmortem", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("postmortem_written_at", tocsin.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("postmortem_done_at", tocsin.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("postmortem_due_at", tocsin.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_incident_postmortem_due_at", ["postmortem_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_postmortem_due_at")
        batch_op.drop_column("postmortem_due_at")
        batch_op.drop_column("postmortem_done_at")
        batch_op.drop_column("postmortem_written_at")
        batch_op.drop_column("postmortem")

    with op.batch_alter_table("incident_action", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_action_remind_at")
        batch_op.drop_index("ix_incident_action_incident_id")

    op.drop_table("incident_action")
