"""What keeps an instance's claims alive while it lives, and hands them over when it dies.

Leases are short (`worker.lease`, 15 s by default) so a CRITICAL page whose sender died waits
about that long (plus a poll): the `Keeper` renews the leases this instance holds (checks being
evaluated, notifications being sent) every quarter of a lease, on a thread of its own so a
long tick cannot let them lapse, and beats the instance's row with its status. A process
killed with `kill -9` stops renewing; its leases run out and whoever claims next takes the
rows over. A graceful stop hands them back at once (`hand_back`).

Rolling upgrades: each round reads the store's schema revision; an instance whose code is
older than the store stops claiming work (and says which version it needs) until it is
replaced; one whose code is newer waits for `tocsin db upgrade` (`wait_for_schema`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tocsin import store as versions
from tocsin.checks.models import CheckSchedule
from tocsin.clock import Clock
from tocsin.db import session_scope
from tocsin.instances import service as instances
from tocsin.outbox import service as outbox

log = logging.getLogger("tocsin.worker")
WORKING = "working"


def renew_checks(session: Session, owner: str, now: datetime, lease: timedelta) -> int:
    result = session.execute(
        update(CheckSchedule)
        .where(CheckSchedule.lease_owner == owner, CheckSchedule.lease_until > now)
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def hand_back(session: Session, owner: str) -> int:
    """A graceful stop: every lease this instance holds is free again at once."""
    checks = session.execute(
        update(CheckSchedule)
        .where(CheckSchedule.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(checks.rowcount) + outbox.hand_back(session, owner)  # type: ignore[attr-defined]


def status_of(session: Session) -> str:
    """`working`, or why this instance may not claim work on this store."""
    return versions.verdict(instances.store_revision(session)) or WORKING


class Keeper:
    """Renews this instance's leases, beats its row, and says whether it may claim work."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        instance_id: str,
        lease: timedelta,
        taken_over: Callable[[], int],
    ) -> None:
        self.factory, self.clock, self.id = factory, clock, instance_id
        self.lease = lease
        self.taken_over = taken_over
        self.status = WORKING
        self._said = WORKING
        self._halted = threading.Event()

    @property
    def working(self) -> bool:
        return self.status == WORKING

    @property
    def every(self) -> float:
        return max(self.lease.total_seconds() / 4, 0.05)

    def register(self) -> None:
        now = self.clock.now()
        with session_scope(self.factory) as session:
            self.status = status_of(session)
            instances.register(session, self.id, now, versions.head(), self.status)
        self._say()

    def round(self) -> None:
        """Renew, read the schema, beat: one transaction."""
        now = self.clock.now()
        with session_scope(self.factory) as session:
            renew_checks(session, self.id, now, self.lease)
            outbox.renew(session, self.id, now, self.lease)
            self.status = status_of(session)
            instances.beat(session, self.id, now, self.status, self.taken_over())
        self._say()

    def others_alive(self) -> int:
        """How many other instances are alive (a graceful stop hands its work to them)."""
        now = self.clock.now()
        with session_scope(self.factory) as session:
            listed = instances.listing(session, now, self.lease / 4)
        return sum(1 for i in listed if i.alive and i.id != self.id and i.status == WORKING)

    def _say(self) -> None:
        if self.status != self._said:
            if self.working:
                log.warning("instance %s claims work again", self.id)
            else:
                log.error("instance %s claims no work: %s", self.id, self.status)
            self._said = self.status

    def run(self) -> None:
        """Renew every quarter of a lease until `halt`: past the worker's stop signal, so
        what is in flight stays ours while it finishes."""
        while not self._halted.wait(self.every):
            try:
                self.round()
            except Exception:
                log.exception("renewing leases failed; retrying")

    def halt(self) -> None:
        self._halted.set()

    def stop(self) -> None:
        now = self.clock.now()
        with session_scope(self.factory) as session:
            handed = hand_back(session, self.id)
            instances.stopped(session, self.id, now)
        if handed:
            log.info("handed %d leases back", handed)


def wait_for_schema(factory: sessionmaker[Session], stop: threading.Event, every: float = 2) -> str:
    """Before starting: wait while the store's schema is behind this code (`tocsin db
    upgrade` is coming); returns "" once it is current, or the problem when it has none,
    when it is ahead (refuse), when `every` is 0 (do not wait) or `stop` was set."""
    said = ""
    while True:
        with session_scope(factory) as session:
            found = instances.store_revision(session)
        problem = versions.verdict(found)
        if problem is None:
            return ""
        if found is None or found > versions.head() or every <= 0:
            return problem  # no schema at all, a newer one, or no waiting asked for
        if problem != said:
            log.warning("waiting: %s", problem)
            said = problem
        if stop.wait(every):
            return problem
