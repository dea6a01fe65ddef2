"""Heartbeats over a session: keep rows in step with the configuration, record pings, and
raise an alert for a missed or failed run (the next success resolves it). None commits.

Due times are columns (`next_due_at`, `alert_at`), so a restart loses no deadline and any
worker can raise the alert. A heartbeat that never pinged is `new` and not yet watched, as
healthchecks.io does, so declaring one never pages before its job first runs.
"""

from __future__ import annotations

import uuid as uuids
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from tocsin import claims
from tocsin.actions import alerts as alert_actions
from tocsin.alerts.lifecycle import OPEN
from tocsin.alerts.models import Alert
from tocsin.alerts.service import NewAlert
from tocsin.config.heartbeats import HeartbeatConfig
from tocsin.db import is_postgresql
from tocsin.errors import Conflict, NotFound
from tocsin.fingerprint import fingerprint
from tocsin.heartbeats.models import Heartbeat, HeartbeatPing
from tocsin.heartbeats.schedule import missed_note, next_due
from tocsin.pipeline import Pipeline
from tocsin.prepared import Statements

ORIGIN = "heartbeat"
BODY_LIMIT = 10_000  # characters of a ping's body kept: the end of a log says the most


def sync(session: Session, beats: Sequence[HeartbeatConfig], now: datetime) -> None:
    """A row per configured heartbeat (a generated key when none is configured); a changed
    configured key replaces the stored one. Rows of removed heartbeats are kept, unwatched."""
    rows = {h.name: h for h in session.scalars(select(Heartbeat)).all()}
    for beat in beats:
        row = rows.get(beat.name)
        key = str(uuids.UUID(beat.uuid)) if beat.uuid else None
        if row is None:
            session.add(
                Heartbeat(
                    name=beat.name, uuid=key or str(uuids.uuid4()), status="new", created_at=now
                )
            )
        elif key is not None and row.uuid != key:
            row.uuid = key
    session.flush()


def list_(session: Session) -> Sequence[Heartbeat]:
    return session.scalars(select(Heartbeat).order_by(Heartbeat.name)).all()


def recent_pings(session: Session, heartbeat_id: int, limit: int) -> Sequence[HeartbeatPing]:
    """The newest `limit` pings, newest first."""
    return session.scalars(
        select(HeartbeatPing)
        .where(HeartbeatPing.heartbeat_id == heartbeat_id)
        .order_by(HeartbeatPing.id.desc())
        .limit(limit)
    ).all()


def ping_url(public_url: str, key: str) -> str:
    return f"{public_url.rstrip('/')}/ping/{key}"


def alert_fingerprint(name: str) -> str:
    return fingerprint(ORIGIN, {"heartbeat": name})


def ping(
    session: Session,
    beats: Mapping[str, HeartbeatConfig],
    key: str,
    kind: str,
    now: datetime,
    pipeline: Pipeline,
    *,
    exit_code: int | None = None,
    body: str = "",
    method: str = "GET",
    remote: str | None = None,
    history: PingHistory | None = None,
) -> bool:
    """Record one ping (`kind` success, start or fail; a non-zero exit code is a fail).
    True when it raised or resolved an alert (there is a notification to send). `history`
    prunes the heartbeat's older pings now and then.

    The hot path is three statements on the session's connection, no ORM objects: read the
    heartbeat's row, one UPDATE of it, one INSERT of the ping (each compiled once and cached,
    so the drivers reuse their prepared statements). Only a failure or a recovery goes
    through the door (`actions.alerts`)."""
    try:
        key = str(uuids.UUID(key))
    except ValueError:
        raise NotFound("no heartbeat has this key") from None
    connection = session.connection()
    by_key = _BY_KEY_LOCKED if is_postgresql(session) else _BY_KEY
    found = by_key.rows(connection, {"key": key})
    row = _Row(*found[0]) if found else None
    beat = beats.get(row.name) if row is not None else None
    if row is None or beat is None:
        raise NotFound("no heartbeat has this key")
    if kind == "success" and exit_code:
        kind = "fail"
    duration = None
    if kind == "start":
        deadline = now + beat.grace
        alert_at = deadline if row.alert_at is None else min(row.alert_at, deadline)
        _START.rows(
            connection, {"row_id": row.id, "new_last_start_at": now, "new_alert_at": alert_at}
        )
    else:
        if row.last_start_at is not None:
            duration = (now - row.last_start_at).total_seconds()
        due = next_due(beat, now)
        _FINISH.rows(
            connection,
            {
                "row_id": row.id,
                "new_last_start_at": None,
                "new_last_ping_at": now,
                "new_next_due_at": due,
                "new_alert_at": due + beat.grace,
                "new_status": "down" if kind == "fail" else "up",
                "new_last_duration_s": row.last_duration_s if duration is None else duration,
            },
        )
    if len(body) > BODY_LIMIT:
        body = "…" + body[-BODY_LIMIT:]
    _RECORD.rows(
        connection,
        {
            "new_heartbeat_id": row.id,
            "new_at": now,
            "new_kind": kind,
            "new_exit_code": exit_code,
            "new_duration_s": duration,
            "new_method": method,
            "new_remote": remote,
            "new_body": body,
        },
    )
    if history is not None:
        history.recorded(connection, row.id)
    if kind == "fail":
        what = f"exited with {exit_code}" if exit_code else "reported a failure"
        _raise(session, beat, f"Heartbeat {beat.name} {what}", body, now, pipeline)
        return True
    if kind == "success" and row.status == "down":
        _recover(session, beat.name, now, pipeline)
        return True
    return False


class _Row(NamedTuple):
    id: int
    name: str
    status: str
    last_start_at: datetime | None
    alert_at: datetime | None
    last_duration_s: float | None


# The ping's statements, prepared (see `tocsin.prepared`); parameters are named `new_…`
# where a column of the same name is set.
_BY_KEY = Statements(
    select(*(getattr(Heartbeat, name) for name in _Row._fields)).where(
        Heartbeat.uuid == bindparam("key")
    )
)
_BY_KEY_LOCKED = Statements(_BY_KEY.statement.with_for_update())  # type: ignore[attr-defined]


def _moving(*columns: str) -> Statements:
    return Statements(
        update(Heartbeat)
        .where(Heartbeat.id == bindparam("row_id"))
        .values({column: bindparam(f"new_{column}") for column in columns})
    )


_START = _moving("last_start_at", "alert_at")
_FINISH = _moving(
    "last_start_at", "last_ping_at", "next_due_at", "alert_at", "status", "last_duration_s"
)
_RECORD = Statements(
    insert(HeartbeatPing).values(
        {
            column: bindparam(f"new_{column}")
            for column in (
                "heartbeat_id",
                "at",
                "kind",
                "exit_code",
                "duration_s",
                "method",
                "remote",
                "body",
            )
        }
    )
)


class PingHistory:
    """Keeps a heartbeat's newest `keep` pings and deletes the older ones, in a DELETE now
    and then rather than one per ping: on the first ping this process records for a
    heartbeat, then at every `keep // 4`-th (at least every one) after it. So between `keep`
    and `keep + keep // 4 - 1` rows stand per heartbeat. Counts live in this process (one
    writer thread calls it); another process or a restart only prunes sooner."""

    def __init__(self, keep: int) -> None:
        if keep < 1:
            raise ValueError("keep at least one ping per heartbeat")
        self.keep = keep
        self.every = max(1, keep // 4)
        self._since: dict[int, int] = {}  # heartbeat id → pings recorded since its last prune

    def recorded(self, connection: Connection, heartbeat_id: int) -> None:
        """A ping of `heartbeat_id` was just inserted on `connection`."""
        since = self._since.get(heartbeat_id)
        if since is not None and since + 1 < self.every:
            self._since[heartbeat_id] = since + 1
            return
        self._since[heartbeat_id] = 0
        _PRUNE.rows(connection, {"hid": heartbeat_id, "one": 1, "skip": self.keep - 1})


# A heartbeat's pings older than its `keep`-th newest (none while it has fewer).
_NEWEST_KEPT = (
    select(HeartbeatPing.id)
    .where(HeartbeatPing.heartbeat_id == bindparam("hid"))
    .order_by(HeartbeatPing.id.desc())
    .limit(bindparam("one"))
    .offset(bindparam("skip"))
    .scalar_subquery()
)
_PRUNE = Statements(
    delete(HeartbeatPing).where(
        HeartbeatPing.heartbeat_id == bindparam("hid"), HeartbeatPing.id < _NEWEST_KEPT
    )
)


def raise_missed(
    session: Session,
    beats: Mapping[str, HeartbeatConfig],
    now: datetime,
    pipeline: Pipeline,
    limit: int = 200,
) -> int:
    """Alert for every watched heartbeat whose deadline passed without a ping."""
    query = (
        select(Heartbeat).where(Heartbeat.alert_at <= now).order_by(Heartbeat.alert_at).limit(limit)
    )
    done = 0
    for row in claims.due(session, query):
        beat = beats.get(row.name)
        # Compare-and-set on the deadline: a ping (or a worker) that moved it meanwhile wins.
        moved = claims.take(
            session,
            Heartbeat,
            Heartbeat.id == row.id,
            expect=[Heartbeat.alert_at == row.alert_at],
            values={"alert_at": None, "status": "down" if beat is not None else row.status},
        )
        if beat is None or not moved:
            continue
        started = row.last_start_at is not None and (
            row.next_due_at is None or row.last_start_at + beat.grace <= now
        )
        what = "started but did not finish" if started else "missed its ping"
        note = missed_note(beat, row.next_due_at) if row.next_due_at else ""
        _raise(session, beat, f"Heartbeat {beat.name} {what}", note, now, pipeline)
        done += 1
    return done


def _raise(
    session: Session,
    beat: HeartbeatConfig,
    title: str,
    message: str,
    now: datetime,
    pipeline: Pipeline,
) -> None:
    new = NewAlert(
        fingerprint=alert_fingerprint(beat.name),
        origin=ORIGIN,
        labels={**beat.labels, "heartbeat": beat.name},
        severity=beat.severity,
        title=title,
        message=message[-2000:],
        source=beat.name,
    )
    try:
        alert_actions.fire(session, pipeline, new, now)
    except Conflict:
        return  # already down: one alert until the next success


def _recover(session: Session, name: str, now: datetime, pipeline: Pipeline) -> None:
    alert_id = session.scalar(
        select(Alert.id).where(Alert.fingerprint == alert_fingerprint(name), Alert.state.in_(OPEN))
    )
    if alert_id is None:
        return
    alert_actions.resolve(session, pipeline, alert_id, None, now, "a successful ping arrived")
