"""Tables of the on-call domain: overrides, the one part of on-call that changes at run time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, UTCDateTime


class OncallOverride(Base):
    """`username` covers `schedule` over [start_at, end_at), above every layer of it.

    Schedules and users live in the configuration, so they are names here, checked when the
    override is created; an override naming a schedule later removed from the file is ignored.
    """

    __tablename__ = "oncall_override"
    __table_args__ = (Index("ix_oncall_override_schedule_end", "schedule", "end_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(100))
    username: Mapped[str] = mapped_column(String(100))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
