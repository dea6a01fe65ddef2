"""console invites: one-time, expiring links for a configured user to set a password

Revision ID: 0110
Revises: 0092
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db

revision: str = "0110"
down_revision: str | None = "0092"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AT = tocsin.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_invite",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("expires_at", AT, nullable=False),
        sa.Column("used_at", AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_invite")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_invite_token_hash")),
    )
    with op.batch_alter_table("console_invite", schema=None) as batch_op:
        batch_op.create_index("ix_console_invite_user", ["user_name"], unique=False)


def downgrade() -> None:
    op.drop_table("console_invite")
