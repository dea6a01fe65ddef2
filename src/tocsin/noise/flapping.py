"""Flapping: a series (fingerprint) changing state more than `threshold` times within
`window` is marked flapping, announced once as such, and kept quiet until it has not
changed for `stable_for`. The series' recent changes are a row, never memory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.config.noise import FlappingConfig
from tocsin.noise.common import chunks
from tocsin.noise.decide import Flap, flap_step, settled
from tocsin.noise.models import FlapSeries


def record_change(session: Session, spec: FlappingConfig, fingerprint: str, now: datetime) -> Flap:
    """Count one state change (an alert of this series fired or resolved)."""
    row = session.get(FlapSeries, fingerprint, with_for_update=True)
    flap, _ = record(session, spec, row, fingerprint, now)
    session.flush()
    return flap


def load(session: Session, fingerprints: Sequence[str]) -> dict[str, FlapSeries]:
    """The series of many fingerprints in one query (locked, as `record_change` locks one),
    for a batch that then calls `record` and `quiet` for each with its row."""
    out: dict[str, FlapSeries] = {}
    for some in chunks(fingerprints):
        query = select(FlapSeries).where(FlapSeries.fingerprint.in_(some))
        out.update((row.fingerprint, row) for row in session.scalars(query.with_for_update()))
    return out


def record(
    session: Session, spec: FlappingConfig, row: FlapSeries | None, fingerprint: str, now: datetime
) -> tuple[Flap, FlapSeries]:
    """`record_change` on the series' row already read (None: it has none yet, and one is
    added); returns the step and the row, not flushed."""
    changes = [datetime.fromisoformat(t) for t in row.changes] if row is not None else []
    since = row.flapping_since if row is not None else None
    if since is not None and row is not None and settled(row.last_change_at, now, spec.stable_for):
        since = None  # it had calmed down before this change
    flap = flap_step(changes, since, now, threshold=spec.threshold, window=spec.window)
    stored = [t.isoformat() for t in flap.changes]
    if row is None:
        row = FlapSeries(
            fingerprint=fingerprint,
            changes=stored,
            last_change_at=now,
            flapping_since=flap.flapping_since,
        )
        session.add(row)
    else:
        row.changes = stored
        row.last_change_at = now
        row.flapping_since = flap.flapping_since
    return flap, row


def quiet_until(
    session: Session, spec: FlappingConfig, fingerprint: str, now: datetime
) -> datetime | None:
    """While the series is flapping: when it will count as stable if nothing changes."""
    return quiet(spec, session.get(FlapSeries, fingerprint), now)


def quiet(spec: FlappingConfig, row: FlapSeries | None, now: datetime) -> datetime | None:
    """`quiet_until` on the series' row already read."""
    if row is None or row.flapping_since is None:
        return None
    if settled(row.last_change_at, now, spec.stable_for):
        row.flapping_since = None
        return None
    return row.last_change_at + spec.stable_for
