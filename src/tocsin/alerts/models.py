"""Tables of the alerts domain: the alert and its timeline of transitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, JSONType, UTCDateTime


class Alert(Base):
    """One firing condition. At most one open (unresolved) alert exists per fingerprint."""

    __tablename__ = "alert"
    __table_args__ = (
        # The partial unique index is what makes "fire" a compare-and-set across workers.
        Index(
            "uq_alert_open_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
        Index("ix_alert_state_severity", "state", "severity"),
        Index("ix_alert_check_state", "check_name", "state"),
        Index("ix_alert_fingerprint", "fingerprint"),
        # The console's first screen: the newest open alerts, however many resolved ones.
        Index(
            "ix_alert_open_id",
            "id",
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
        # The console's filter by service (`labels ->> 'service'`, the same expression in
        # SQLite 3.38+ and PostgreSQL), newest first, without reading every alert's labels.
        Index("ix_alert_service_id", text("(labels ->> 'service')"), "id"),
        # The worker's expiry step reads open alerts whose sender-given end time has passed.
        Index(
            "ix_alert_open_ends_at",
            "ends_at",
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(32))
    # check | check_error | alertmanager | pagerduty | event | heartbeat
    origin: Mapped[str] = mapped_column(String(20))
    check_name: Mapped[str | None] = mapped_column(String(100))
    labels: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20))  # firing | acknowledged | resolved
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float)
    runbook: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    previous_id: Mapped[int | None] = mapped_column(BigId)
    # Inbound alerts: which integration sent it (a token's or heartbeat's name), what else the
    # sender said (annotations, custom details, generator URL), and the sender's end time,
    # after which the alert resolves unless the sender refreshes it (Alertmanager's endsAt).
    source: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertEvent(Base):
    """One entry of an alert's timeline, written in the transaction that made the change."""

    __tablename__ = "alert_event"
    __table_args__ = (Index("ix_alert_event_alert_at", "alert_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alert.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    state_from: Mapped[str | None] = mapped_column(String(20))
    state_to: Mapped[str | None] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(10))
    actor: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class AlertChange(Base):
    """The fingerprints of open alerts whose deduplication columns changed, in commit order:
    what lets a process trust its memory of open alerts (`tocsin.inbound.repeats`).

    Written only by the store's own triggers (migration 0013, SQLite), in the transaction
    making the change, whichever process makes it; pruned to its newest rows by the worker.
    `sqlite_autoincrement` keeps `seq` growing after pruning and rollbacks, so the log has
    no holes: a reader that finds one knows rows were pruned past it."""

    __tablename__ = "alert_change"
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(32))
