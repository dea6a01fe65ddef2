"""Noise that begins while alerts already fire: a silence, maintenance window or known issue
that starts to match an open alert mutes the alert itself, not only its later events.

Alertmanager decides silencing when asked: a new silence makes a firing alert `suppressed`
(`silencedBy`) at once, and expiring it makes the alert `active` again. Tocsin shows the
same (`in_force`, read by `GET /api/v2/alerts`) and makes it hold for paging:

- Each silence, window and known issue carries `rescreen_at`: its start, then each
  occurrence's start. The worker's noise step reads the due ones by that index (so an idle
  worker does no work here) and mutes every *firing* alert one matches that nothing mutes
  yet, exactly as `screen` records a mute: a `muted_alert` row holding the alert's latest
  `fired` or `severity_changed` event until the mute ends, a `suppressed` timeline event,
  the count on the row, and the alert's escalations paused (`Pause`, the pipeline's: noise
  comes before escalation). Nothing more is sent for it while it stays muted: later events
  are screened as usual, group reminders leave it out (`grouping`).
- When the silence ends (expired, its end or occurrence over, replaced), `recheck_muted`
  sends the held event again if the alert still fires: its routes are told it fires and
  its escalations start again from the first step, so the end of a silence over a live
  problem is never silent. Acknowledgements and resolutions still reach the channels told
  before the silence (see `screen`).

Acknowledged alerts show as muted but are not re-screened: nothing pages for them; one
acknowledged while muted is not told again when the mute ends (`recheck_muted`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, AlertEvent
from tocsin.config import TocsinConfig
from tocsin.db import is_postgresql
from tocsin.matchers import matches_all
from tocsin.noise import known_issues, maintenance, silences
from tocsin.noise.common import parsed, window_of
from tocsin.noise.decide import known_issue_applies, maintenance_applies, match_labels
from tocsin.noise.models import KnownIssue, MaintenanceWindow, MutedAlert, Silence
from tocsin.noise.screen import SCREENED_KINDS, _first_mute, _Reads, _record_mute

# `Pipeline.pause_escalation`: stop paging an alert that was just muted.
Pause = Callable[[Session, Alert, datetime, str], None]
Row = Silence | MaintenanceWindow | KnownIssue
T = TypeVar("T", Silence, MaintenanceWindow, KnownIssue)
# Alerts muted per pass: a silence matching more is carried on at the next tick.
BATCH = 500


def run_due(session: Session, config: TocsinConfig, now: datetime, pause: Pause | None) -> int:
    """Mute the firing alerts each due silence, window or known issue now matches; move its
    `rescreen_at` on (compare-and-set: two workers never both take one). Returns how many
    alerts were muted."""
    # screen's order, so a window beginning with a silence is the reason recorded
    done = _run_due(session, MaintenanceWindow, config, now, pause)
    done += _run_due(session, KnownIssue, config, now, pause)
    return done + _run_due(session, Silence, config, now, pause)


def _run_due(
    session: Session, model: type[T], config: TocsinConfig, now: datetime, pause: Pause | None
) -> int:
    done = 0
    query = select(model).where(model.rescreen_at <= now).order_by(model.rescreen_at).limit(20)
    if is_postgresql(session):  # another worker takes the next ones, not the same
        query = query.with_for_update(skip_locked=True)
    rows = session.scalars(query).all()
    for row in rows:
        muted, more = 0, False
        if _in_force(row, now):
            muted, more = _mute_matching(session, config, row, now, pause)
        claimed = session.execute(
            update(model)
            .where(model.id == row.id, model.rescreen_at == row.rescreen_at)
            .values(rescreen_at=now if more else _next(row, now))
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            done += muted
    return done


def _in_force(row: Row, now: datetime) -> bool:
    if isinstance(row, KnownIssue):
        return row.expires_at > now
    return window_of(row).active_until(now) is not None


def _next(row: Row, now: datetime) -> datetime | None:
    return None if isinstance(row, KnownIssue) else window_of(row).next_start(now)


def _applies(row: Row) -> Callable[[Mapping[str, str], str], bool]:
    """The row's own test over an alert's labels (as matchers see them) and text."""
    if isinstance(row, Silence):
        matchers = parsed(row.matchers)
        return lambda labels, _text: matches_all(matchers, labels)
    if isinstance(row, MaintenanceWindow):
        services = list(row.services)
        return lambda labels, _text: maintenance_applies(services, labels)
    issue_matchers = parsed(row.matchers)
    contains, regex = row.message_contains, row.message_regex
    return lambda labels, text: known_issue_applies(issue_matchers, contains, regex, labels, text)


def _mute_matching(
    session: Session, config: TocsinConfig, row: Row, now: datetime, pause: Pause | None
) -> tuple[int, bool]:
    """(alerts muted, whether more are left for the next pass)."""
    applies = _applies(row)
    candidates = session.execute(
        select(Alert.id, Alert.labels, Alert.check_name, Alert.severity, Alert.title, Alert.message)
        .where(
            Alert.state == "firing",
            ~exists().where(MutedAlert.alert_id == Alert.id),
        )
        .order_by(Alert.id)
    )
    matched = [
        alert_id
        for alert_id, labels, check, severity, title, message in candidates
        if applies(match_labels(labels, check, severity), f"{title}\n{message}")
    ]
    muted = 0
    reads = _Reads(session, config)
    for alert_id in matched[:BATCH]:
        alert = session.get(Alert, alert_id)
        event = session.scalar(
            select(AlertEvent)
            .where(AlertEvent.alert_id == alert_id, AlertEvent.kind.in_(SCREENED_KINDS))
            .order_by(AlertEvent.id.desc())
            .limit(1)
        )
        if alert is None or event is None:
            continue
        # The whole screen, not just this row: a window that also matches is the reason.
        mute = _first_mute(session, config, alert, now, reads, flap_started=True)
        if mute is None:
            continue
        _record_mute(session, alert, event, None, mute, now, reads)
        if pause is not None:
            pause(session, alert, now, mute.reason)
        muted += 1
    session.flush()
    return muted, len(matched) > BATCH


def in_force(session: Session, alert: Any, now: datetime) -> tuple[str, str] | None:
    """(kind, id) of the window, known issue or silence muting this open alert at `now`,
    decided now as Alertmanager decides silencing, whatever was recorded when it fired."""
    labels = match_labels(alert.labels, alert.check_name, alert.severity)
    window = maintenance.matching(session, labels, now)
    if window is not None:
        return "maintenance", window[0].id
    issue = known_issues.matching(session, labels, f"{alert.title}\n{alert.message}", now)
    if issue is not None:
        return "known_issue", issue.id
    silence = silences.matching(session, labels, now)
    return ("silence", silence[0].id) if silence is not None else None
