"""Flapping: a series (fingerprint) changing state more than `threshold` times within
`window` is marked flapping, announced once as such, and kept quiet until it has not
changed for `stable_for`. The series' recent changes are a row, never memory."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.config import FlappingConfig
from tocsin.noise.decide import Flap, flap_step, settled
from tocsin.noise.models import FlapSeries


def record_change(session: Session, spec: FlappingConfig, fingerprint: str, now: datetime) -> Flap:
    """Count one state change (an alert of this series fired or resolved)."""
    row = session.get(FlapSeries, fingerprint, with_for_update=True)
    changes = [datetime.fromisoformat(t) for t in row.changes] if row is not None else []
    since = row.flapping_since if row is not None else None
    if since is not None and row is not None and settled(row.last_change_at, now, spec.stable_for):
        since = None  # it had calmed down before this change
    flap = flap_step(changes, since, now, threshold=spec.threshold, window=spec.window)
    stored = [t.isoformat() for t in flap.changes]
    if row is None:
        session.add(
            FlapSeries(
                fingerprint=fingerprint,
                changes=stored,
                last_change_at=now,
                flapping_since=flap.flapping_since,
            )
        )
    else:
        row.changes = stored
        row.last_change_at = now
        row.flapping_since = flap.flapping_since
    session.flush()
    return flap


def quiet_until(
    session: Session, spec: FlappingConfig, fingerprint: str, now: datetime
) -> datetime | None:
    """While the series is flapping: when it will count as stable if nothing changes."""
    row = session.get(FlapSeries, fingerprint)
    if row is None or row.flapping_since is None:
        return None
    if settled(row.last_change_at, now, spec.stable_for):
        row.flapping_since = None
        return None
    return row.last_change_at + spec.stable_for
