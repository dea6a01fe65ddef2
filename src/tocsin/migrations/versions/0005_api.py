"""API tokens, server secrets, heartbeats, and the inbound columns of alert (source,
details, ends_at).

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23 22:58:53.637144
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tocsin.db

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("name", name=op.f("uq_api_token_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "heartbeat",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_ping_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_start_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_due_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("alert_at", tocsin.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_duration_s", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeat")),
        sa.UniqueConstraint("name", name=op.f("uq_heartbeat_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_heartbeat_uuid")),
    )
    with op.batch_alter_table("heartbeat", schema=None) as batch_op:
        batch_op.create_index("ix_heartbeat_alert_at", ["alert_at"], unique=False)

    op.create_table(
        "server_secret",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secret")),
    )
    op.create_table(
        "heartbeat_ping",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "heartbeat_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", tocsin.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("remote", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["heartbeat_id"],
            ["heartbeat.id"],
            name=op.f("fk_heartbeat_ping_heartbeat_id_heartbeat"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeat_ping")),
    )
    with op.batch_alter_table("heartbeat_ping", schema=None) as batch_op:
        batch_op.create_index(
            "ix_heartbeat_ping_heartbeat_at", ["heartbeat_id", "at"], unique=False
        )

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column(
                "details",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("ends_at", tocsin.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_alert_open_ends_at",
            ["ends_at"],
            unique=False,
            sqlite_where=sa.text("state != 'resolved'"),
            postgresql_where=sa.text("state != 'resolved'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_open_ends_at")
        batch_op.drop_column("ends_at")
        batch_op.drop_column("details")
        batch_op.drop_column("source")

    with op.batch_alter_table("heartbeat_ping", schema=None) as batch_op:
        batch_op.drop_index("ix_heartbeat_ping_heartbeat_at")

    op.drop_table("heartbeat_ping")
    op.drop_table("server_secret")
    with op.batch_alter_table("heartbeat", schema=None) as batch_op:
        batch_op.drop_index("ix_heartbeat_alert_at")

    op.drop_table("heartbeat")
    op.drop_table("api_token")
