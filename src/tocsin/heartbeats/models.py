"""Tables of heartbeats: one row per configured heartbeat with its durable due times, and
its recent pings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, UTCDateTime


class Heartbeat(Base):
    """`status` is new (never pinged: not yet watched, as healthchecks does), up or down.
    `alert_at` is when the worker raises the missed-ping alert unless a ping moves it."""

    __tablename__ = "heartbeat"
    __table_args__ = (Index("ix_heartbeat_alert_at", "alert_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_ping_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_duration_s: Mapped[float | None] = mapped_column(Float)


class HeartbeatPing(Base):
    __tablename__ = "heartbeat_ping"
    __table_args__ = (Index("ix_heartbeat_ping_heartbeat_at", "heartbeat_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    heartbeat_id: Mapped[int] = mapped_column(BigId, ForeignKey("heartbeat.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(10))  # success | start | fail
    exit_code: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(10))
    remote: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")  # capped log excerpt
