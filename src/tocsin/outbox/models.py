"""The outbox: one row per message to one channel, with a stable id sent as its dedup key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, JSONType, UTCDateTime


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        # The sender's claim reads pending rows in this order (ids are UUIDv7: written order).
        Index("ix_notification_due", "state", "next_attempt_at", "id"),
        # Who was told about an alert (`told`), and a lane's earlier rows (`claim_due`).
        Index("ix_notification_lane", "alert_id", "channel"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(  # None for a digest of several alerts
        BigId, ForeignKey("alert.id", ondelete="CASCADE")
    )
    event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("alert_event.id"))
    channel: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(
        String(20)
    )  # digest | digested | pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The instance sending it (`sending`): it renews the lease; SIGTERM hands its rows back.
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
