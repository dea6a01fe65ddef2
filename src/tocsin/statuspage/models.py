"""Tables of the status page: the publish job's due row and the uptime of closed days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, UTCDateTime


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
