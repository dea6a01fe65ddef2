"""Runs of runbook steps: one row per executable block run, for an incident, an alert's
diagnosis, or the rot check. Queued rows are the due rows (claimed through `tocsin.claims`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, JSONType, UTCDateTime

STATES = ("queued", "running", "succeeded", "failed", "timed_out", "refused")
ENDED = ("succeeded", "failed", "timed_out", "refused")


class RunbookRun(Base):
    """One run of one block. The block (language, attributes, body) and its parameters are
    copied in when the run is asked for, so editing the file never changes a run in flight.
    A `queued` row is due once it needs no approval or has it; the worker takes it `running`
    with a lease that covers the block's timeout, runs it outside any transaction, and ends
    it by a compare-and-set on its lease. A write step needs `approved_by`/`approved_at`
    before it is ever claimed."""

    __tablename__ = "runbook_run"
    __table_args__ = (
        Index("ix_runbook_run_due", "state", "requested_at"),
        Index("ix_runbook_run_incident", "incident_id", "runbook_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    runbook_id: Mapped[str] = mapped_column(String(100))
    # Who the run is for: an incident's steps, an alert's diagnosis, or the rot check (neither).
    incident_id: Mapped[str | None] = mapped_column(String(32))
    alert_id: Mapped[int | None] = mapped_column(BigId)
    purpose: Mapped[str] = mapped_column(String(10))  # step | auto | check
    step: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[int] = mapped_column(Integer)  # the block's fence line in the file
    kind: Mapped[str] = mapped_column(String(10))  # sql | http | sh
    info: Mapped[str] = mapped_column(Text)  # the fence's info string, as written
    body: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(10))  # read | write
    source: Mapped[str | None] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(10))
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    exit_status: Mapped[int | None] = mapped_column(Integer)  # sh: the exit code; http: status
    row_count: Mapped[int | None] = mapped_column(Integer)
    # At most OUTPUT_CAP bytes of the output, secrets redacted; the hash is of all of it.
    output: Mapped[str | None] = mapped_column(Text)
    output_bytes: Mapped[int | None] = mapped_column(Integer)
    output_sha256: Mapped[str | None] = mapped_column(String(64))
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    tests: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # [{test, held, error}]
