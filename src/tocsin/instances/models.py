"""A row per worker process, refreshed while it lives: the worker writes it; `/readyz`, `/metrics`,
`tocsin instances` and lease recovery read it, so it lives below the worker and the web app
that both use it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, UTCDateTime


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeat"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The newest schema revision this instance's code knows (rolling upgrades).
    schema: Mapped[str | None] = mapped_column(String(32))
    # working | waiting for `tocsin db upgrade` | refusing (the store is newer than its code)
    status: Mapped[str | None] = mapped_column(String(300))
    # Rows whose holder died that this instance took over after their lease ran out.
    taken_over: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
