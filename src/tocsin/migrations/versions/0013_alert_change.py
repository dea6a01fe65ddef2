"""alert_change: a log of open alerts whose deduplication columns changed, kept by triggers

Every process keeps in memory what the open alerts it has seen look like in the store, so
that a re-send repeating them (Prometheus, every cycle) is answered without a transaction
(`tocsin.inbound.repeats`). These triggers append an open alert's fingerprint to
`alert_change` in the transaction that closes it, deletes it or changes what a re-send is
compared with (severity, title, message, details, ends_at), whoever writes it: another
process, the CLI, a hand-written UPDATE. A new alert needs no row: a fingerprint has at most
one open alert, and the one before it had to be closed first.

SQLite only: with its one writer, the log's order is the order of commits. PostgreSQL gets
the table (the models are the same on both) but no triggers, and does not use the memory.

Note for later migrations: `batch_alter_table("alert")` on SQLite copies the table and drops
its triggers; such a migration must create these again (`tests/test_store.py` checks they
exist at head).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG = "INSERT INTO alert_change (fingerprint) VALUES (OLD.fingerprint)"
TRIGGERS = {
    "alert_change_update": (
        "AFTER UPDATE OF state, severity, title, message, details, ends_at ON alert "
        "WHEN OLD.state != 'resolved' AND (NEW.state = 'resolved'"
        " OR OLD.severity IS NOT NEW.severity OR OLD.title IS NOT NEW.title"
        " OR OLD.message IS NOT NEW.message OR OLD.details IS NOT NEW.details"
        " OR OLD.ends_at IS NOT NEW.ends_at)"
    ),
    "alert_change_delete": "AFTER DELETE ON alert WHEN OLD.state != 'resolved'",
}


def create_triggers() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, when in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {when} BEGIN {LOG}; END")


def upgrade() -> None:
    op.create_table(
        "alert_change",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_alert_change")),
        sqlite_autoincrement=True,
    )
    create_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("alert_change")
