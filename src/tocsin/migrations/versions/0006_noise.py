"""noise control: silences, maintenance windows, known issues, groups, flapping, muted alerts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 22:57:10.710265
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tocsin.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_group",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "channels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_flush_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("repeat_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_flush_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flush_count", sa.Integer(), nullable=False),
        sa.Column(
            "lead_alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_group")),
        sa.UniqueConstraint("group_key", name=op.f("uq_alert_group_group_key")),
    )
    with op.batch_alter_table("alert_group", schema=None) as batch_op:
        batch_op.create_index("ix_alert_group_next_flush_at", ["next_flush_at"], unique=False)
        batch_op.create_index("ix_alert_group_repeat_at", ["repeat_at"], unique=False)

    op.create_table(
        "flap_series",
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("last_change_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("flapping_since", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_flap_series")),
    )
    op.create_table(
        "known_issue",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column(
            "matchers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("message_contains", sa.String(length=500), nullable=True),
        sa.Column("message_regex", sa.String(length=500), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("suppressed_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_issue")),
    )
    op.create_table(
        "maintenance_window",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "services",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("starts_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("suppressed_count", sa.Integer(), nullable=False),
        sa.Column("every", sa.String(length=100), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_window")),
    )
    with op.batch_alter_table("maintenance_window", schema=None) as batch_op:
        batch_op.create_index("ix_maintenance_window_ends_at", ["ends_at"], unique=False)

    op.create_table(
        "silence",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column(
            "matchers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("starts_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("warned_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suppressed_count", sa.Integer(), nullable=False),
        sa.Column("every", sa.String(length=100), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silence")),
    )
    with op.batch_alter_table("silence", schema=None) as batch_op:
        batch_op.create_index("ix_silence_ends_at", ["ends_at"], unique=False)

    op.create_table(
        "alert_group_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("flush_no", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_alert_group_entry_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["alert_group.id"],
            name=op.f("fk_alert_group_entry_group_id_alert_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_group_entry")),
    )
    with op.batch_alter_table("alert_group_entry", schema=None) as batch_op:
        batch_op.create_index("ix_alert_group_entry_alert_id", ["alert_id"], unique=False)
        batch_op.create_index(
            "ix_alert_group_entry_group_flush", ["group_id", "flush_no"], unique=False
        )

    op.create_table(
        "muted_alert",
        sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("since", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recheck_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_muted_alert_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_muted_alert")),
    )
    with op.batch_alter_table("muted_alert", schema=None) as batch_op:
        batch_op.create_index("ix_muted_alert_recheck_at", ["recheck_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("muted_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_muted_alert_recheck_at")

    op.drop_table("muted_alert")
    with op.batch_alter_table("alert_group_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_group_entry_group_flush")
        batch_op.drop_index("ix_alert_group_entry_alert_id")

    op.drop_table("alert_group_entry")
    with op.batch_alter_table("silence", schema=None) as batch_op:
        batch_op.drop_index("ix_silence_ends_at")

    op.drop_table("silence")
    with op.batch_alter_table("maintenance_window", schema=None) as batch_op:
        batch_op.drop_index("ix_maintenance_window_ends_at")

    op.drop_table("maintenance_window")
    op.drop_table("known_issue")
    op.drop_table("flap_series")
    with op.batch_alter_table("alert_group", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_group_repeat_at")
        batch_op.drop_index("ix_alert_group_next_flush_at")

    op.drop_table("alert_group")
