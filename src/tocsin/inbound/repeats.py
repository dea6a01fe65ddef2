"""Re-sent alerts answered from memory.

Prometheus re-sends every firing alert every cycle, and nearly every re-send repeats what the
store already holds. `Repeats` remembers, per process, what the open alerts it has seen look
like in the store (`OpenAlert`: id, severity, title, message, details, end time), so a batch
that only repeats them is answered with no transaction and no thread hop: the parse, a few
dictionary lookups and one indexed read of a few rows.

How the memory stays true to the store, whoever writes to it (another process, the CLI, the
worker): SQLite triggers (migration 0013) append to `alert_change` the fingerprint of each
open alert that is closed, deleted, or changes a column a re-send is compared with, in the
transaction making the change. SQLite has one writer at a time, so the log's order is the
order of commits. Before answering, the memory reads the log past the last row it applied
and forgets those fingerprints. Everything it remembers was read from the store together
with the log's position in the same snapshot (`Seen`), and is kept only if the log shows no
later change of that fingerprint. A hole in the log (pruned past the memory's position)
empties the memory.

Bounded: at most `CAPACITY` alerts are remembered, the oldest learnt forgotten first; a
fingerprint not remembered goes to the store as before.

PostgreSQL: off (every call answers None or does nothing). Its sequences are not in commit
order, so the log cannot be read this way there; several instances sharing PostgreSQL will
need LISTEN/NOTIFY for this (the multi-instance work).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from tocsin.alerts.models import AlertChange
from tocsin.inbound import service
from tocsin.inbound.ends import Pending, PendingEnds
from tocsin.inbound.schemas import Inbound
from tocsin.inbound.service import Applied, OpenAlert

CAPACITY = 50_000  # alerts remembered: about 1.6 KB each with their details, 80 MB when full
LOG_READ = 10_000  # log rows read at once; more than that behind empties the memory
KEEP_LOG = 100_000  # log rows the worker keeps (`prune`)


@dataclass(frozen=True)
class Seen:
    """Open alerts as one snapshot of the store showed them, and the log's position in it."""

    seq: int
    open: dict[str, OpenAlert]


class Repeats:
    """The memory of one process (one per API app: `Settings.repeats`)."""

    def __init__(self, engine: Engine, ends: PendingEnds | None = None) -> None:
        self.ends = ends if ends is not None else PendingEnds()  # where later ends go
        url = engine.url
        file = url.database if url.get_backend_name() == "sqlite" else None
        self._path = file if file not in (None, "", ":memory:") else None
        self._lock = threading.Lock()
        self._open: dict[str, OpenAlert] = {}
        self._seq = 0  # the last log row applied
        self._reader: sqlite3.Connection | None = None

    @property
    def enabled(self) -> bool:
        return self._path is not None

    def __len__(self) -> int:
        return len(self._open)

    def answer(self, batch: Sequence[Inbound], now: datetime) -> list[Applied] | None:
        """`apply`'s answer for a batch that repeats only remembered alerts, or moves only
        their ends later (noted in `ends`); None when the batch may change anything else or
        names an alert not remembered (ask the store)."""
        if not self._open:
            return None
        last = service.last_of_each(batch)
        with self._lock:
            later = self._later(last, now)
            if later is None:
                return None
            self._catch_up()
            known = self._open
            if any(fp not in known for fp in last):
                return None  # changed in the store since it was learnt
            if later:
                self.ends.note(later)
            return [Applied("unchanged", known[event.fingerprint].id, event.key) for event in batch]

    def _later(self, last: dict[str, Inbound], now: datetime) -> Pending | None:
        """The later ends a batch of remembered alerts brings ({} for none); None when it
        changes anything else."""
        known = self._open
        later: Pending = {}
        for fp, event in last.items():
            current = known.get(fp)
            if service.repeats(event, current):
                continue
            if current is None:
                return None
            end = service.deferrable_end(event, current, now)
            if end is None:
                return None
            later[fp] = (current.id, end)
        return later

    def look(
        self, session: Session, batch: Sequence[Inbound], now: datetime
    ) -> list[Applied] | None:
        """The store's answer for a batch that only repeats what is stored, or moves only
        ends later (noted in `ends`); None when it changes anything else. Read in `session`;
        what it read is remembered."""
        last = service.last_of_each(batch)
        found = service.open_by_fingerprint(session, list(last), lock=False)
        if self.enabled:
            self.learn(Seen(service.change_seq(session), found))
        return service.all_repeated(batch, last, found, (self.ends, now))

    def read_back(self, session: Session, fingerprints: list[str]) -> Seen | None:
        """In a transaction that changed these alerts: them as they will be committed, to
        `learn` once the commit succeeded (so a flush of ends does not empty the memory)."""
        if not self.enabled or not fingerprints:
            return None
        session.flush()
        found = service.open_by_fingerprint(session, fingerprints, lock=False)
        return Seen(service.change_seq(session), found)

    def seen(
        self, session: Session, batch: Sequence[Inbound], applied: Sequence[Applied]
    ) -> Seen | None:
        """At the end of a transaction that applied `batch` (with these outcomes): the alerts
        it changed as they will be committed, to `learn` once the commit succeeded. Alerts it
        created are not read back (a third of a batch's cost): their first re-send learns
        them from a read."""
        if not self.enabled:
            return None
        fingerprints = {
            event.fingerprint
            for event, outcome in zip(batch, applied, strict=True)
            if outcome.outcome != "created"
        }
        if not fingerprints:
            return None
        session.flush()
        found = service.open_by_fingerprint(session, list(fingerprints), lock=False)
        return Seen(service.change_seq(session), found)

    def learn(self, seen: Seen | None) -> None:
        """Remember what a snapshot of the store showed, except alerts changed since."""
        if seen is None or not self.enabled:
            return
        with self._lock:
            self._catch_up()  # now at the newest row, which `seen` cannot be past
            later: set[str] = set()
            if seen.seq != self._seq:
                log = self._log_since(seen.seq)
                if log is None:
                    return  # the log was pruned past that snapshot: it cannot be checked
                later, newest = log
                for fp in later:  # rows that came in since the catch-up: apply them too
                    self._open.pop(fp, None)
                self._seq = max(self._seq, newest)
            known = self._open
            for fp, alert in seen.open.items():
                if fp not in later:
                    known.pop(fp, None)
                    known[fp] = alert  # newest last: the oldest learnt are forgotten first
            while len(known) > CAPACITY:
                del known[next(iter(known))]

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    # --- the log --------------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Apply the log past our position: forget what changed (everything, on a hole)."""
        log = self._log_since(self._seq)
        if log is None:
            self._open.clear()
            self._seq = self._newest()
            return
        changed, self._seq = log
        for fp in changed:
            self._open.pop(fp, None)

    def _log_since(self, seq: int) -> tuple[set[str], int] | None:
        """The fingerprints logged after row `seq`, and the newest row; None when rows
        after `seq` were pruned, or are too many to read."""
        rows = (
            self._connection()
            .execute(
                "SELECT seq, fingerprint FROM alert_change WHERE seq >= ? ORDER BY seq LIMIT ?",
                (seq, LOG_READ + 1),
            )
            .fetchall()
        )
        if not rows:
            return (set(), seq) if seq == 0 else None  # our own row is gone: pruned, reset
        # Row `seq` itself is read (0 is never a row): the log must go on from it unbroken.
        first, newest = rows[0][0], rows[-1][0]
        if len(rows) > LOG_READ or first != (seq or 1) or newest - first != len(rows) - 1:
            return None
        return {fp for row_seq, fp in rows if row_seq > seq}, newest

    def _newest(self) -> int:
        row = self._connection().execute("SELECT max(seq) FROM alert_change").fetchone()
        return int(row[0] or 0)

    def _connection(self) -> sqlite3.Connection:
        """A read-only connection of our own: each read is its own snapshot of the last
        commit (autocommit, WAL), and never waits for the writer."""
        if self._reader is None:
            assert self._path is not None
            reader = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            reader.execute("PRAGMA query_only=1")
            self._reader = reader
        return self._reader


def prune(session: Session, keep: int = KEEP_LOG) -> int:
    """Drop all but the newest `keep` log rows (a memory that far behind starts over)."""
    newest = service.change_seq(session)
    if newest <= keep:
        return 0
    result = session.execute(delete(AlertChange).where(AlertChange.seq <= newest - keep))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
