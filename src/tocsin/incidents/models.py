"""Tables of incidents: the incident, its per-day counter, its timeline, the alerts linked to
it and the status updates it posted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, JSONType, UTCDateTime


class IncidentDay(Base):
    """The last number given out on one day (in the configured zone): declaring increments
    it with one `INSERT … ON CONFLICT DO UPDATE … RETURNING`, so numbers are unique and
    gap-free however many instances declare at once."""

    __tablename__ = "incident_day"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Incident(Base):
    """One incident. `cadence_due_at` is its due column: when the worker next reminds
    (`cadence_state` waiting) or pages (reminded) for a missed status update."""

    __tablename__ = "incident"
    __table_args__ = (
        Index("ix_incident_status_declared", "status", "declared_at"),
        Index("ix_incident_cadence_due_at", "cadence_due_at"),
        Index("ix_incident_group_key", "group_key"),
        Index("ix_incident_postmortem_due_at", "postmortem_due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(8))  # SEV-1 … SEV-4
    # investigating | identified | mitigating | resolved | closed
    status: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # shown on the status page
    customer_impact: Mapped[str] = mapped_column(Text, default="")
    eta: Mapped[str | None] = mapped_column(String(100))
    services: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # An incident declared by an alert route (`incident: auto`): the alerts of this key join it.
    group_key: Mapped[str | None] = mapped_column(String(200))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)  # may lie before created_at
    declared_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    identified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mitigating_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    commander: Mapped[str | None] = mapped_column(String(100))
    comms_lead: Mapped[str | None] = mapped_column(String(100))
    scribe: Mapped[str | None] = mapped_column(String(100))
    merged_into: Mapped[str | None] = mapped_column(String(32))
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_update_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cadence_state: Mapped[str | None] = mapped_column(String(10))  # waiting | reminded | paged
    cadence_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    page_alert_id: Mapped[int | None] = mapped_column(BigId)  # the missed-update page
    # The post-mortem: drafted on resolution, a reminder due 48 h later unless marked done.
    postmortem: Mapped[str | None] = mapped_column(Text)
    postmortem_written_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    postmortem_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    postmortem_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IncidentEvent(Base):
    """One entry of an incident's timeline: append-only, typed, with its actor."""

    __tablename__ = "incident_event"
    __table_args__ = (Index("ix_incident_event_incident_at", "incident_id", "at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incident.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class IncidentAlert(Base):
    """An alert linked to an incident (by hand, by a route, or carried over by a merge)."""

    __tablename__ = "incident_alert"
    __table_args__ = (Index("ix_incident_alert_alert_id", "alert_id"),)

    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True
    )
    alert_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    linked_by: Mapped[str | None] = mapped_column(String(100))


class IncidentUpdate(Base):
    """A status update as posted: what the incident's channels and the status page show."""

    __tablename__ = "incident_update"
    __table_args__ = (Index("ix_incident_update_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incident.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    customer_impact: Mapped[str] = mapped_column(Text, default="")
    eta: Mapped[str | None] = mapped_column(String(100))
    by: Mapped[str | None] = mapped_column(String(100))
    public: Mapped[bool] = mapped_column(Boolean, default=False)


class IncidentAction(Base):
    """A follow-up from a post-mortem: what, who owns it, by when. `remind_at` is its due
    column: the owner is reminded once when it is overdue and still open. One that carries
    a check (`verify`: a source, its query, a test over the rows) is also due at `verify_at`:
    the check runs then, and closes it when the test holds (`verify_result` says how the
    last run went)."""

    __tablename__ = "incident_action"
    __table_args__ = (
        Index("ix_incident_action_incident_id", "incident_id"),
        Index("ix_incident_action_remind_at", "remind_at"),
        Index("ix_incident_action_verify_at", "verify_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incident.id", ondelete="CASCADE")
    )
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(100))
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    verify_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify_result: Mapped[str | None] = mapped_column(Text)
