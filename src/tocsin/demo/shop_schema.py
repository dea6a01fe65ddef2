"""The storefront's five tables (reference 000), in SQLAlchemy Core: the same on SQLite and
PostgreSQL, times as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from tocsin.clock import ensure_utc


class UtcTimestamp(TypeDecorator[datetime]):
    """Aware UTC datetimes; TEXT `YYYY-MM-DD HH:MM:SS` on SQLite, `timestamptz` elsewhere."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(19))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = ensure_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None).isoformat(" ", "seconds")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("status", String(20), nullable=False),  # paid | refunded
    Column("total_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("customer_email", String(100), nullable=False),
    Column("stripe_payment_intent", String(40), nullable=False),
    Index("ix_orders_created_at", "created_at"),
)

system_logs = Table(
    "system_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("timestamp", UtcTimestamp, nullable=False),
    Column("level", String(10), nullable=False),  # info | warning | error | critical
    Column("source", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("error_code", String(40)),
    Index("ix_system_logs_timestamp", "timestamp"),
)

fulfillment_events = Table(
    "fulfillment_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer),
    Column("provider_name", String(20), nullable=False),  # printful | printify
    Column("event_type", String(20), nullable=False),  # order_submit | status_poll
    Column("status", String(20), nullable=False),  # submitted | failed (submits); success (polls)
    Column("response_time_ms", Integer),
    Column("cost_cents", Integer, nullable=False),
    Column("shipping_cost_cents", Integer, nullable=False),
    Column("error_code", String(40)),
    Column("created_at", UtcTimestamp, nullable=False),
    Index("ix_fulfillment_events_created_at", "created_at"),
)

manual_queue = Table(
    "manual_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer),
    Column("priority", String(10), nullable=False),  # low | normal | high | urgent
    # The state when the data ends; at a virtual time, use created_at and completed_at.
    Column("status", String(10), nullable=False),  # pending | done
    Column("reason", String(60), nullable=False),
    Column("assigned_to", String(40)),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("completed_at", UtcTimestamp),
    Index("ix_manual_queue_created_at", "created_at"),
)

# One row per provider: the switch reference 000 §6.3.3 flips to fail over by hand.
provider_config = Table(
    "provider_config",
    metadata,
    Column("provider_name", String(20), primary_key=True),
    Column("is_enabled", Boolean, nullable=False),
    Column("disabled_reason", Text),
    Column("disabled_at", UtcTimestamp),
    Column("disabled_by", String(40)),
    Column("re_enabled_at", UtcTimestamp),
    Column("last_successful_call", UtcTimestamp),
    Column("current_health_score", Integer, nullable=False),  # 0-100
)
