"""Tables of escalation: the policy as copied onto one alert, and one due row per step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, JSONType, UTCDateTime


class Escalation(Base):
    """A policy copied onto an alert when it starts escalating: editing the configuration
    later never changes an escalation in flight."""

    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("alert_id", "policy", name="uq_escalation_alert_policy"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alert.id", ondelete="CASCADE"))
    policy: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)  # steps, repeat, repeat_limit
    state: Mapped[str] = mapped_column(String(20))  # active | paused | stopped
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_reason: Mapped[str | None] = mapped_column(Text)


class EscalationStep(Base):
    """One step coming due: fired once if the alert is still unacknowledged then."""

    __tablename__ = "escalation_step"
    __table_args__ = (
        UniqueConstraint("escalation_id", "step", "repeat", name="uq_escalation_step"),
        Index("ix_escalation_step_due", "state", "due_at"),
        Index("ix_escalation_step_alert", "alert_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    escalation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("escalation.id", ondelete="CASCADE")
    )
    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alert.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20))  # pending | fired | cancelled
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
