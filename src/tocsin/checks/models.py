"""Tables of the checks domain: schedules (due rows), evaluations, pending series, samples."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, JSONType, UTCDateTime


class CheckSchedule(Base):
    """One row per configured check: when it is next due and who holds its lease."""

    __tablename__ = "check_schedule"

    check_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    schedule_key: Mapped[str] = mapped_column(String(200))
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)


class Evaluation(Base):
    """One run of a check for one schedule slot; unique per slot so a slot never counts twice."""

    __tablename__ = "evaluation"
    __table_args__ = (
        UniqueConstraint("check_name", "slot_at", name="uq_evaluation_check_slot"),
        Index("ix_evaluation_check_started", "check_name", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    check_name: Mapped[str] = mapped_column(String(100))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))  # ok | error | inactive
    error_kind: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(100))
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


class CheckSeries(Base):
    """A (check, fingerprint) whose condition holds but whose `for` has not yet elapsed."""

    __tablename__ = "check_series"

    check_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), primary_key=True)
    pending_severity: Mapped[str] = mapped_column(String(10))
    pending_since: Mapped[datetime] = mapped_column(UTCDateTime)


class CheckSample(Base):
    """A check's current value per series over time, for `baseline: history`."""

    __tablename__ = "check_sample"
    # History baselines read one check's samples over a time window, all series at once:
    # (check_name, at) makes that a range scan (with fingerprint in between it scanned every
    # sample the check ever stored).
    __table_args__ = (Index("ix_check_sample_check_at", "check_name", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    check_name: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float] = mapped_column(Float)
    evaluation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("evaluation.id", ondelete="CASCADE")
    )
