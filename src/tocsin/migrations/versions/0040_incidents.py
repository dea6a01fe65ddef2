"""incidents: the incident, its per-day id counter, timeline, linked alerts and updates

`incident_day` is the counter an id's number comes from (one upsert per declaration);
`incident.cadence_due_at` is the status-update cadence's due column, claimed by the worker.

Revision ID: 0040
Revises: 0021
Create Date: 2026-12-02 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tocsin.db

revision: str = "0040"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("customer_impact", sa.Text(), nullable=False),
        sa.Column("eta", sa.String(length=100), nullable=True),
        sa.Column(
            "services",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("group_key", sa.String(length=200), nullable=True),
        sa.Column("declared_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("declared_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("identified_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mitigating_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("commander", sa.String(length=100), nullable=True),
        sa.Column("comms_lead", sa.String(length=100), nullable=True),
        sa.Column("scribe", sa.String(length=100), nullable=True),
        sa.Column("merged_into", sa.String(length=32), nullable=True),
        sa.Column("last_update_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_update_due_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cadence_state", sa.String(length=10), nullable=True),
        sa.Column("cadence_due_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "page_alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index("ix_incident_cadence_due_at", ["cadence_due_at"], unique=False)
        batch_op.create_index("ix_incident_group_key", ["group_key"], unique=False)
        batch_op.create_index(
            "ix_incident_status_declared", ["status", "declared_at"], unique=False
        )

    op.create_table(
        "incident_day",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_incident_day")),
    )
    op.create_table(
        "incident_alert",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("linked_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("linked_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_incident_alert_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_alert_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "alert_id", name=op.f("pk_incident_alert")),
    )
    with op.batch_alter_table("incident_alert", schema=None) as batch_op:
        batch_op.create_index("ix_incident_alert_alert_id", ["alert_id"], unique=False)

    op.create_table(
        "incident_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_event_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_event")),
    )
    with op.batch_alter_table("incident_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_event_incident_at", ["incident_id", "at", "id"], unique=False
        )

    op.create_table(
        "incident_update",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("customer_impact", sa.Text(), nullable=False),
        sa.Column("eta", sa.String(length=100), nullable=True),
        sa.Column("by", sa.String(length=100), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_update_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_update")),
    )
    with op.batch_alter_table("incident_update", schema=None) as batch_op:
        batch_op.create_index("ix_incident_update_incident_at", ["incident_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_update", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_update_incident_at")

    op.drop_table("incident_update")
    with op.batch_alter_table("incident_event", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_event_incident_at")

    op.drop_table("incident_event")
    with op.batch_alter_table("incident_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_alert_alert_id")

    op.drop_table("incident_alert")
    op.drop_table("incident_day")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_status_declared")
        batch_op.drop_index("ix_incident_group_key")
        batch_op.drop_index("ix_incident_cadence_due_at")

    op.drop_table("incident")
