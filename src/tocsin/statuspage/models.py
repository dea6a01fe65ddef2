"""Tables of the status page: the publish job's due row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
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
