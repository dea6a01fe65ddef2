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
  the count on the row. `run_due` returns the alerts it muted, and the pipeline pauses
  their escalations (noise comes before escalation and does not reach into it). Nothing
  more is sent for it while it stays muted: later events are screened as usual, group
  reminders leave it out (`grouping`).
- When the silence ends (expired, its end or occurrence over, replaced), `recheck_muted`
  hands the held event back to the pipeline if the alert still fires: its routes are told
  it fires and its escalations start again from the first step, so the end of a silence
  over a live problem is never silent. Acknowledgements and resolutions still reach the
  channels told before the silence (see `screen`).

Inhibition that begins later (a source firing after its targets, or rising to a severity
its rule wants) works the same way. A source's `inhibit_source` rows carry `rescreen_at`
(when written); the step reads the due ones by that index, finds the firing targets they
could inhibit by the target index (`inhibition.targets`), mutes them (returned, for their
escalations to pause) and clears it. While the source fires Alertmanager sends nothing for
them; so neither does Tocsin. Its resolution (or a severity change) wakes them (`screen`), and
those still firing are told again as at a silence's end.

Acknowledged alerts show as muted but are not re-screened: nothing pages for them; one
acknowledged while muted is not told again when the mute ends (`recheck_muted`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import exists, select, tuple_, update
from sqlalchemy.orm import Session

from tocsin import claims
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.config.model import TocsinConfig
from tocsin.matchers import matches_all
from tocsin.noise import inhibition, known_issues, maintenance, silences
from tocsin.noise.common import parsed, window_of
from tocsin.noise.decide import known_issue_applies, maintenance_applies, match_labels
from tocsin.noise.models import InhibitSource, KnownIssue, MaintenanceWindow, MutedAlert, Silence
from tocsin.noise.screen import SCREENED_KINDS, _first_mute, _Reads, _record_mute

Row = Silence | MaintenanceWindow | KnownIssue
T = TypeVar("T", Silence, MaintenanceWindow, KnownIssue)
# Alerts muted per pass: a silence matching more is carried on at the next tick.
BATCH = 500
# Sources whose targets are looked up per pass.
SOURCES = 100


@dataclass
class Muted:
    """What a pass muted: each alert with the reason (the pipeline pauses their escalations),
    and how much work that was (alerts muted and inhibit sources looked at)."""

    alerts: list[tuple[Alert, str]] = field(default_factory=list)
    work: int = 0


def run_due(session: Session, config: TocsinConfig, now: datetime) -> Muted:
    """Mute the firing alerts each due silence, window or known issue now matches; move its
    `rescreen_at` on (compare-and-set: two workers never both take one). Then the same for
    the inhibit sources indexed since the last pass."""
    muted = Muted()
    # screen's order, so a window beginning with a silence is the reason recorded
    _run_due(session, MaintenanceWindow, config, now, muted)
    _run_due(session, KnownIssue, config, now, muted)
    _run_due(session, Silence, config, now, muted)
    _run_due_sources(session, config, now, muted)
    return muted


def _run_due(
    session: Session, model: type[T], config: TocsinConfig, now: datetime, out: Muted
) -> None:
    query = select(model).where(model.rescreen_at <= now).order_by(model.rescreen_at).limit(20)
    # Another worker takes the next ones, not the same (SKIP LOCKED on PostgreSQL).
    for row in claims.due(session, query):
        # Claim first (compare-and-set on the due time read), then mute: a worker that
        # lost the row writes nothing for it.
        if not claims.take(
            session,
            model,
            model.id == row.id,
            expect=[model.rescreen_at == row.rescreen_at],
            values={"rescreen_at": _next(row, now)},
        ):
            continue
        if not _in_force(row, now):
            continue
        muted, more = _mute_matching(session, config, row, now)
        if more:  # due again at once for the rest
            session.execute(
                update(model)
                .where(model.id == row.id)
                .values(rescreen_at=now)
                .execution_options(synchronize_session=False)
            )
        out.alerts += muted
        out.work += len(muted)


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
    session: Session, config: TocsinConfig, row: Row, now: datetime
) -> tuple[list[tuple[Alert, str]], bool]:
    """(alerts muted with the reason, whether more are left for the next pass)."""
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
    return _mute(session, config, matched[:BATCH], now), len(matched) > BATCH


def _run_due_sources(session: Session, config: TocsinConfig, now: datetime, out: Muted) -> None:
    """Mute the firing targets of the inhibit sources indexed since the last pass, then
    clear their `rescreen_at` (leave it when more targets are left for the next pass).
    The work is the alerts muted and the sources cleared: a storm of sources inhibiting
    nothing is still work, so the worker does not wait a poll interval between passes."""
    if not config.inhibit_rules:
        return
    query = (
        select(InhibitSource)
        .where(InhibitSource.rescreen_at <= now)
        .order_by(InhibitSource.rescreen_at)
        .limit(SOURCES)
    )
    sources = claims.due(session, query)  # another worker takes the next ones, not the same
    if not sources:
        return
    found = inhibition.targets(session, config.inhibit_rules, sources, BATCH + 1)
    muted = _mute(session, config, found[:BATCH], now)
    out.alerts += muted
    out.work += len(muted)
    if len(found) > BATCH and muted:
        return
    keys = [(s.rule_key, s.alert_id) for s in sources]
    cleared = session.execute(
        update(InhibitSource)
        .where(
            tuple_(InhibitSource.rule_key, InhibitSource.alert_id).in_(keys),
            InhibitSource.rescreen_at <= now,  # not one a severity change wrote since
        )
        .values(rescreen_at=None)
        .execution_options(synchronize_session=False)
    )
    out.work += int(cleared.rowcount)  # type: ignore[attr-defined]


def _mute(
    session: Session, config: TocsinConfig, alert_ids: list[int], now: datetime
) -> list[tuple[Alert, str]]:
    """Screen each firing alert as its latest fired or severity-changed event was, and
    record the mute found: the whole screen, not just what asked, so a window that also
    matches is the reason. Returns the alerts muted, with the reason."""
    muted: list[tuple[Alert, str]] = []
    reads = _Reads(session, config)
    for alert_id in alert_ids:
        alert = session.get(Alert, alert_id)
        event = session.scalar(
            select(AlertEvent)
            .where(AlertEvent.alert_id == alert_id, AlertEvent.kind.in_(SCREENED_KINDS))
            .order_by(AlertEvent.id.desc())
            .limit(1)
        )
        if alert is None or event is None:
            continue
        mute = _first_mute(session, config, alert, now, reads, flap_started=True)
        if mute is None:
            continue
        _record_mute(session, alert, event, None, mute, now, reads)
        muted.append((alert, mute.reason))
    session.flush()
    return muted


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
