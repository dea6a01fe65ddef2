"""Tables of noise control. Every silence, window, known issue, group, flapping series and
held-back alert is a row: a restart resumes exactly where the last process stopped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, JSONType, UTCDateTime


class Recurring:
    """Columns shared by silences and maintenance windows that may recur: a cron expression
    in a zone, each occurrence lasting `duration_s`, all within [starts_at, ends_at)."""

    every: Mapped[str | None] = mapped_column(String(100))
    duration_s: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class Rescreened:
    """When the alerts already open must next be screened against the row: its start, then
    each occurrence's start; None once nothing is left to start (noise/rescreen.py)."""

    rescreen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Silence(Recurring, Rescreened, Base):
    """Alertmanager's silence: matchers, a time range, who and why. Expiring one sets
    `ends_at` to now, as Alertmanager does; `warned_at` records the one expiry notice."""

    __tablename__ = "silence"
    __table_args__ = (
        Index("ix_silence_ends_at", "ends_at"),
        Index("ix_silence_rescreen_at", "rescreen_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    matchers: Mapped[list[str]] = mapped_column(JSONType)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suppressed_count: Mapped[int] = mapped_column(Integer, default=0)


class MaintenanceWindow(Recurring, Rescreened, Base):
    """The reference's `maintenance_windows` table, with optional recurrence."""

    __tablename__ = "maintenance_window"
    __table_args__ = (
        Index("ix_maintenance_window_ends_at", "ends_at"),
        Index("ix_maintenance_window_rescreen_at", "rescreen_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    services: Mapped[list[str]] = mapped_column(JSONType)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    suppressed_count: Mapped[int] = mapped_column(Integer, default=0)
    # Shown on the public status page as scheduled maintenance.
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class KnownIssue(Rescreened, Base):
    """The reference's `registerKnownIssue`: a pattern, an expiry, a reason, a counter."""

    __tablename__ = "known_issue"
    __table_args__ = (Index("ix_known_issue_rescreen_at", "rescreen_at"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    matchers: Mapped[list[str]] = mapped_column(JSONType)
    message_contains: Mapped[str | None] = mapped_column(String(500))
    message_regex: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(10))  # config | cli
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    suppressed_count: Mapped[int] = mapped_column(Integer, default=0)


class AlertGroup(Base):
    """Alerts sharing the grouping labels and channels. `next_flush_at` is the durable timer:
    a flush claims the row by compare-and-set, so it happens once even across a crash."""

    __tablename__ = "alert_group"
    __table_args__ = (
        Index("ix_alert_group_next_flush_at", "next_flush_at"),
        Index("ix_alert_group_repeat_at", "repeat_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group_key: Mapped[str] = mapped_column(String(64), unique=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSONType)
    channels: Mapped[list[str]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_flush_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_flush_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flush_count: Mapped[int] = mapped_column(Integer, default=0)
    # The alert whose id the group's notifications carry (PagerDuty's dedup key), kept
    # while the group has open members so one storm is one incident.
    lead_alert_id: Mapped[int | None] = mapped_column(BigId)


class AlertGroupEntry(Base):
    """One alert event waiting in (or already flushed from) a group."""

    __tablename__ = "alert_group_entry"
    __table_args__ = (
        Index("ix_alert_group_entry_group_flush", "group_id", "flush_no"),
        Index("ix_alert_group_entry_alert_id", "alert_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("alert_group.id", ondelete="CASCADE"))
    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alert.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    flush_no: Mapped[int | None] = mapped_column(Integer)  # None: waiting for the next flush


class FlapSeries(Base):
    """State changes of one fingerprint within the flapping window."""

    __tablename__ = "flap_series"

    fingerprint: Mapped[str] = mapped_column(String(32), primary_key=True)
    changes: Mapped[list[str]] = mapped_column(JSONType, default=list)  # ISO times, oldest first
    last_change_at: Mapped[datetime] = mapped_column(UTCDateTime)
    flapping_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MutedAlert(Base):
    """An open alert whose event was held back, and when to look again (the silence's end,
    the window's end, the known issue's expiry; none for inhibition, which its source's
    resolution or severity change wakes, found by `ref`). A re-check that finds nothing
    muting it any more sends the event."""

    __tablename__ = "muted_alert"
    __table_args__ = (
        Index("ix_muted_alert_recheck_at", "recheck_at"),
        Index("ix_muted_alert_ref", "ref"),
    )

    alert_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(100))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    recheck_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class InhibitSource(Base):
    """An open alert matching an inhibit rule's source matchers, keyed by the rule and the
    values of the rule's `equal` labels: a new target finds what could inhibit it by one
    indexed look-up instead of reading every open alert. Written when the alert fires or
    changes severity, deleted when it resolves; `seed` fills it for rules that are new.
    `rescreen_at`: when the row was written, until the worker has muted the targets already
    firing (noise/rescreen.py); then None."""

    __tablename__ = "inhibit_source"
    __table_args__ = (
        Index("ix_inhibit_source_lookup", "rule_key", "equal_key"),
        Index("ix_inhibit_source_alert_id", "alert_id"),
        Index("ix_inhibit_source_rescreen_at", "rescreen_at"),
    )

    rule_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True
    )
    equal_key: Mapped[str] = mapped_column(String(40))
    rescreen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InhibitTarget(Base):
    """An open alert matching an inhibit rule's target matchers, keyed by the rule's target
    side and the values of its `equal` labels: a source that begins after its targets finds
    them by one indexed look-up. Kept as `InhibitSource` is."""

    __tablename__ = "inhibit_target"
    __table_args__ = (
        Index("ix_inhibit_target_lookup", "rule_key", "equal_key"),
        Index("ix_inhibit_target_alert_id", "alert_id"),
    )

    rule_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True
    )
    equal_key: Mapped[str] = mapped_column(String(40))
