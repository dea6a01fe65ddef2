"""Report runs: one row per (report, trigger, slot); scheduled rows are the due rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, JSONType, UTCDateTime


class ReportRun(Base):
    """A run of a report for one slot of its schedule (`trigger` schedule), or one asked for
    by hand (`manual`). A scheduled row is written ahead for the next slot (`due`), claimed
    when the slot comes (`running`, with a lease) and completed once (`done`)."""

    __tablename__ = "report_run"
    __table_args__ = (
        UniqueConstraint("report_name", "trigger", "slot_at", name="uq_report_run_slot"),
        # The worker's claim: due rows in slot order, and running rows whose lease ran out.
        Index("ix_report_run_due", "state", "slot_at"),
        Index("ix_report_run_report", "report_name", "slot_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(10))  # schedule | manual
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    schedule_key: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(10))  # due | running | done
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str | None] = mapped_column(String(20))  # healthy | needs_attention
    content: Mapped[str | None] = mapped_column(Text)  # the Markdown as rendered
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    posted: Mapped[int] = mapped_column(Integer, default=0)  # outbox rows written
