"""`status.publish`: the page re-exported to a folder by whichever worker claims the due row,
every `within` (30 s by default), so a change is in the folder within that long plus a tick,
and an exported page stops being refreshed only when no worker runs (its banner then says
so after ten minutes).

The steps keep files out of transactions: claim (commit), read the store and write the files,
then record the outcome against the lease (a compare-and-set on the owner)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from tocsin.config.status import StatusConfig
from tocsin.db import is_postgresql, read_scope, session_scope
from tocsin.statuspage.export import files, write
from tocsin.statuspage.models import StatusPublish

log = logging.getLogger("tocsin.statuspage")
LEASE = timedelta(minutes=2)  # a worker killed mid-export leaves the row to another after this
ROW = StatusPublish


def ensure(session: Session, target: str, now: datetime) -> None:
    """The target's row, due now if new (two workers starting together both may try)."""
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    session.execute(insert(ROW).values(target=target, due_at=now).on_conflict_do_nothing())


def claim(session: Session, target: str, owner: str, now: datetime) -> bool:
    """Lease the target's row if it is due and free; True when this owner won it."""
    free = (ROW.lease_until.is_(None)) | (ROW.lease_until <= now)
    due = select(ROW.target).where(ROW.target == target, ROW.due_at <= now, free)
    if is_postgresql(session):
        due = due.with_for_update(skip_locked=True)
    result = session.execute(
        update(ROW)
        .where(ROW.target.in_(due), ROW.due_at <= now, free)
        .values(lease_owner=owner, lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def record(
    session: Session, target: str, owner: str, now: datetime, every: timedelta, error: str | None
) -> bool:
    """Release the lease and set the next due time; False if the lease was lost meanwhile."""
    values: dict[str, object] = {
        "due_at": now + every,
        "lease_owner": None,
        "lease_until": None,
        "last_error": error,
    }
    if error is None:
        values["exported_at"] = now
    result = session.execute(
        update(ROW)
        .where(ROW.target == target, ROW.lease_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def run_due(
    factory: sessionmaker[Session],
    config: StatusConfig,
    url: str,
    created: datetime,
    owner: str,
    now: datetime,
) -> int:
    """One publish if the row is due and this owner claims it: 1 if it exported, else 0."""
    if config.publish is None:
        return 0
    target = str(config.publish.path)
    with session_scope(factory) as session:
        ensure(session, target, now)
        if not claim(session, target, owner, now):
            return 0
    error = None
    try:
        with read_scope(factory) as session:
            contents = files(session, config, url, created, now)
        write(config.publish.path, contents)
    except OSError as exc:  # a full disk or a missing mount: recorded, tried again when due
        error = f"{type(exc).__name__}: {exc}"
        log.warning("status page export to %s failed: %s", target, error)
    with session_scope(factory) as session:
        record(session, target, owner, now, config.publish.within, error)
    return 1 if error is None else 0
