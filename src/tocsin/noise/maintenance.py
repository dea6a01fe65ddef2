"""Maintenance windows, as in the reference's table: title, description, start, end,
affected services, created by; scheduled ahead, optionally recurring (cron + duration)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tocsin.errors import Invalid
from tocsin.noise.common import (
    WINDOWS,
    active_rows,
    check_range,
    check_recurrence,
    end_now,
    forget,
    get_row,
    list_rows,
)
from tocsin.noise.decide import maintenance_applies
from tocsin.noise.models import MaintenanceWindow


def create_window(
    session: Session,
    title: str,
    services: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    *,
    now: datetime,
    description: str = "",
    every: str | None = None,
    duration: timedelta | None = None,
    timezone: str = "UTC",
    window_id: str | None = None,
    public: bool = False,
) -> MaintenanceWindow:
    """Validate and store a window; Invalid (nothing written) on any bad input."""
    cleaned = sorted({s.strip() for s in services if s.strip()})
    if not title.strip():
        raise Invalid("a maintenance window needs a title")
    if not cleaned:
        raise Invalid("a maintenance window needs at least one affected service")
    if not created_by.strip():
        raise Invalid("a maintenance window needs its creator (--by)")
    check_range(starts_at, ends_at, now)
    check_recurrence(every, duration, timezone)
    window = MaintenanceWindow(
        id=window_id or str(uuid.uuid4()),
        title=title.strip(),
        description=description,
        services=cleaned,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=created_by.strip(),
        created_at=now,
        every=every,
        duration_s=duration.total_seconds() if duration is not None else None,
        timezone=timezone,
        suppressed_count=0,
        public=public,
        rescreen_at=starts_at,  # alerts already firing in its services are muted then
    )
    session.add(window)
    session.flush()
    forget(session)
    return window


def get_window(session: Session, window_id: str) -> MaintenanceWindow:
    return get_row(session, WINDOWS, window_id)


def list_windows(
    session: Session, now: datetime, *, include_ended: bool = False
) -> Sequence[MaintenanceWindow]:
    return list_rows(session, WINDOWS, now, include_ended)


def end_window(session: Session, window_id: str, now: datetime) -> MaintenanceWindow:
    """End a window now (one scheduled ahead is cancelled). Conflict if it already ended."""
    return end_now(session, WINDOWS, window_id, now)


def matching(
    session: Session, labels: dict[str, str], now: datetime
) -> tuple[MaintenanceWindow, datetime] | None:
    """The first window covering the alert's `service` now, and when that occurrence ends."""
    for window, until in active_rows(session, MaintenanceWindow, now):
        if maintenance_applies(window.services, labels):
            return window, until
    return None
