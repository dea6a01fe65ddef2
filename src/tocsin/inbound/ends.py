"""Later end times of open alerts, written a moment late and together.

Prometheus re-sends every firing alert each cycle with `endsAt` moved a few evaluation
intervals ahead, and an alert must resolve when the latest `endsAt` any sender sent passes.
Writing each move in its own transaction would make the re-send path as dear as a change;
instead a re-send that changes nothing but moves the end later is answered at once (from
the API's memory or a read) and its new end goes into this process's `PendingEnds`, which the
API flushes every `FLUSH_EVERY` in one UPDATE for all of them (`flush`).

Why this never resolves an alert early: a later end is only held here while the stored end
is more than `WRITE_AT_ONCE` ahead (`inbound.service.deferrable_end`); one closer than that
goes through the ordinary write path, committed before the answer. So the stored end is
always written before it could pass, by at least `WRITE_AT_ONCE - FLUSH_EVERY`. Several API
processes each flush their own; the UPDATE only ever moves an end later (`ends_at < :new`),
so the store holds the latest of them. A process killed with ends pending loses at most
`FLUSH_EVERY` of moves: those alerts resolve at the end stored before, and the sender's next
re-send opens them again.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert

FLUSH_EVERY = timedelta(seconds=1)
WRITE_AT_ONCE = timedelta(seconds=5)  # a stored end closer than this is moved in the request

Pending = dict[str, tuple[int, datetime]]  # fingerprint → (alert id, latest end sent)

_FLUSH = (
    update(Alert)
    .where(
        Alert.id == bindparam("b_id"),
        Alert.ends_at < bindparam("b_ends"),
        alerts.is_open(),
    )
    .values(ends_at=bindparam("b_ends"))
)


class PendingEnds:
    """The later ends this process answered but has not written yet (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: Pending = {}
        self.flushing = asyncio.Lock()  # one flush at a time: a second waits for the first

    def __len__(self) -> int:
        return len(self._pending)

    def note(self, later: Mapping[str, tuple[int, datetime]]) -> None:
        """Keep each alert's latest end (a later one replaces an earlier one, never back)."""
        with self._lock:
            pending = self._pending
            for fp, (alert_id, ends_at) in later.items():
                held = pending.get(fp)
                if held is None or held[0] != alert_id or held[1] < ends_at:
                    pending[fp] = (alert_id, ends_at)

    def take(self) -> Pending:
        """Everything pending, which is then no longer held (`note` it back on failure)."""
        with self._lock:
            taken, self._pending = self._pending, {}
        return taken


def flush(session: Session, pending: Pending) -> int:
    """Write the pending ends in one UPDATE (executemany): only later than stored, only open
    alerts. Returns how many rows moved."""
    if not pending:
        return 0
    rows = [{"b_id": alert_id, "b_ends": ends_at} for alert_id, ends_at in pending.values()]
    result = session.connection().execute(_FLUSH, rows)
    return int(result.rowcount or 0)
