"""Tables of the status page: the publish job's due row, the uptime of closed days, and the
subscribers with what is sent to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, JSONType, UTCDateTime


class StatusPublish(Base):
    """One row per publish target (today one: `status.publish.path`): when it is next due and
    which worker holds it. Claimed like a check's schedule: a compare-and-set on the due time
    and a free lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL."""

    __tablename__ = "status_publish"

    target: Mapped[str] = mapped_column(String(500), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class StatusUptimeDay(Base):
    """A closed day's uptime inputs for one component, as the hourly `status-uptime` job
    computed them (a periodic job: one instance per hour), so `/status` computes only the days
    not cached yet (today, at least) from the alert history. `config_key` is a hash of the
    components and the impact table: rows of another configuration are not read."""

    __tablename__ = "status_uptime_day"

    component: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    config_key: Mapped[str] = mapped_column(String(64))
    observed_s: Mapped[float] = mapped_column(Float)
    outage_s: Mapped[float] = mapped_column(Float)
    maintenance_s: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusSubscriber(Base):
    """One subscription: `kind` email | webhook | slack | discord, its address (a mail
    address or a URL: a secret, never shown), the component ids it follows (empty: all).
    Email waits for its confirmation (`confirmed_at`); the rest are confirmed when made. No
    token is stored: links and webhook keys are HMACs of `status.subscribers.secret`."""

    __tablename__ = "status_subscriber"
    __table_args__ = (Index("ix_status_subscriber_kind_address", "kind", "address"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(500))
    components: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StatusNotice(Base):
    """One event subscribers were told of (`update:<id>`, `maintenance:<id>`): inserted
    with ON CONFLICT DO NOTHING by the worker that fans it out, so it is fanned out once."""

    __tablename__ = "status_notice"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)


class StatusDelivery(Base):
    """One message to one subscriber, a due row (`next_attempt_at`): claimed through
    `claims` (SKIP LOCKED, then pending → sending with a lease by compare-and-set), sent
    outside any transaction, and its outcome recorded against the lease; retried with
    back-off, given up after `status.subscribers.attempts`."""

    __tablename__ = "status_delivery"
    __table_args__ = (
        Index("ix_status_delivery_due", "state", "next_attempt_at"),
        Index("ix_status_delivery_once", "subscriber_id", "event", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscriber_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("status_subscriber.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(100))  # confirm:<n> | update:<id> | maintenance:<id>
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(10))  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
