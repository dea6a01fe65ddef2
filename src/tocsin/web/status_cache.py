"""What the status page's readers share: its answers, made again only when something moved.

At 200 requests a second, rendering `/status` (90 days of uptime per component) and the
Statuspage JSON for each request costs more CPU than two cores have. Instead each answer is
kept with the key it was made under, and made again when the key changes:

- **a commit in this process** that flushed a change to a table the page reads (alerts,
  incidents, maintenance windows, the status tables): shows on the next request;
- **the store's version** (the newest alert event, incident event, incident update and
  maintenance window: one statement of indexed `max(id)`s), read at most every
  `RECHECK` seconds: a commit by another instance or the CLI shows within that;
- **the second** of the Tocsin's clock (virtual in the demo and the tests): what changes with
  time alone (a window starting, today's uptime, a window ended early elsewhere) is at most
  a second old;
- **the configuration** in force (a reload starts afresh).

So an update is visible at once on the instance that took it and within a second everywhere
else (the issue's bound is 5 s), and between changes a request costs no store access."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import AlertEvent
from tocsin.incidents.models import IncidentEvent, IncidentUpdate
from tocsin.noise.models import MaintenanceWindow
from tocsin.web.deps import Settings, read_only

T = TypeVar("T")
_TABLES = (AlertEvent.id, IncidentEvent.id, IncidentUpdate.id, MaintenanceWindow.id)
RECHECK = 0.25  # seconds between two reads of the store's version
_commits = [0]  # commits in this process that changed something


# Tables the page is made from (by name prefix): a flush of anything else (the worker's
# heartbeats, check schedules, notifications) leaves the kept answers alone.
SHOWN_TABLES = ("alert", "incident", "maintenance_window", "status_")


@event.listens_for(Session, "after_flush")
def _wrote(session: Session, _context: object) -> None:
    for row in (*session.new, *session.dirty, *session.deleted):
        table = getattr(row, "__tablename__", "")
        if table.startswith(SHOWN_TABLES):
            session.info["tocsin_status_wrote"] = True
            return


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop("tocsin_status_wrote", False):
        _commits[0] += 1


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop("tocsin_status_wrote", None)


def store_version(session: Session) -> tuple[Any, ...]:
    """The newest row of each table the page is made from, in one statement."""
    return tuple(
        session.execute(select(*(select(func.max(c)).scalar_subquery() for c in _TABLES))).one()
    )


async def version_of(settings: Settings) -> tuple[Any, ...]:
    """The store's version, read again when `RECHECK` seconds old."""
    kept = settings.status_cache.get("")
    if kept is not None and time.monotonic() - kept[0] < RECHECK:
        found: tuple[Any, ...] = kept[1]
        return found
    found = await read_only(settings, store_version)
    settings.status_cache[""] = (time.monotonic(), found)
    return found


async def cached(settings: Settings, key: str, make: Callable[[], Awaitable[T]]) -> T:
    """`make()`'s answer for `key`, made again when a commit here, the store, the second or
    the configuration moved since it was made."""
    version = (
        _commits[0],
        await version_of(settings),
        int(settings.clock.now().timestamp()),
        id(settings.config),
    )
    kept = settings.status_cache.get(key)
    if kept is not None and kept[0] == version:
        value: T = kept[1]
        return value
    made = await make()
    settings.status_cache[key] = (version, made)
    return made
