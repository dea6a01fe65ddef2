"""The instances sharing a store: each `tocsin run` writes its row at start, beats it while it
lives (with its status and what it took over), marks it stopped on a graceful stop. Who is
alive and what each holds is read here for `tocsin instances`, `/readyz` and `/metrics`."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import column, func, inspect, select, table, text, update
from sqlalchemy.orm import Session

from tocsin.instances.models import WorkerHeartbeat
from tocsin.store import VERSION_TABLE

FRESH_BEATS = 3  # an instance is alive while its last beat is within this many intervals

# What an instance can hold, read by table name: the tables belong to layers above this one.
_SCHEDULE = table("check_schedule", column("lease_owner"), column("lease_until"))
_OUTBOX = table("notification", column("lease_owner"), column("lease_until"), column("state"))


def store_revision(session: Session) -> str | None:
    """The store's schema revision (None: no Tocsin schema yet)."""
    connection = session.connection()
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    found: str | None = connection.execute(
        text(f"SELECT version_num FROM {VERSION_TABLE}")
    ).scalar()
    return found


def register(session: Session, instance_id: str, now: datetime, schema: str, status: str) -> None:
    session.merge(
        WorkerHeartbeat(
            id=instance_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at=now,
            heartbeat_at=now,
            schema=schema,
            status=status,
            taken_over=0,
        )
    )


def beat(session: Session, instance_id: str, now: datetime, status: str, taken_over: int) -> None:
    session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.id == instance_id)
        .values(heartbeat_at=now, status=status, taken_over=taken_over, stopped_at=None)
    )


def stopped(session: Session, instance_id: str, now: datetime) -> None:
    session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.id == instance_id)
        .values(stopped_at=now, status="stopped")
    )


def alive_since(now: datetime, interval: timedelta) -> datetime:
    return now - interval * FRESH_BEATS


def count_alive(session: Session, now: datetime, interval: timedelta) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(WorkerHeartbeat)
            .where(
                WorkerHeartbeat.stopped_at.is_(None),
                WorkerHeartbeat.heartbeat_at >= alive_since(now, interval),
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Instance:
    """One row of `tocsin instances`."""

    id: str
    hostname: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    alive: bool
    status: str
    schema: str | None
    checks_held: int
    notifications_held: int
    taken_over: int


def listing(
    session: Session, now: datetime, interval: timedelta, *, recent: int = 50
) -> list[Instance]:
    """The instances, alive first then the newest, with the leases each holds now."""
    checks: dict[str, int] = dict(
        (owner, n)
        for owner, n in session.execute(
            select(_SCHEDULE.c.lease_owner, func.count())
            .where(_SCHEDULE.c.lease_until > now)
            .group_by(_SCHEDULE.c.lease_owner)
        ).all()
    )
    sending: dict[str, int] = dict(
        (owner, n)
        for owner, n in session.execute(
            select(_OUTBOX.c.lease_owner, func.count())
            .where(_OUTBOX.c.state == "sending", _OUTBOX.c.lease_until > now)
            .group_by(_OUTBOX.c.lease_owner)
        ).all()
    )
    since = alive_since(now, interval)
    rows = session.scalars(
        select(WorkerHeartbeat).order_by(WorkerHeartbeat.heartbeat_at.desc()).limit(recent)
    ).all()
    out = [
        Instance(
            id=row.id,
            hostname=row.hostname,
            pid=row.pid,
            started_at=row.started_at,
            heartbeat_at=row.heartbeat_at,
            stopped_at=row.stopped_at,
            alive=row.stopped_at is None and row.heartbeat_at >= since,
            status=row.status or "",
            schema=row.schema,
            checks_held=int(checks.get(row.id, 0)),
            notifications_held=int(sending.get(row.id, 0)),
            taken_over=row.taken_over,
        )
        for row in rows
    ]
    return sorted(out, key=lambda i: not i.alive)
