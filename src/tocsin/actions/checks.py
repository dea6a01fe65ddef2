"""A check's evaluations, and the alert changes they cause (through `actions.alerts`).

Evaluating a check is split in three so no network call happens inside a transaction:
`snapshot` (read), `evaluate` (source + pure logic, no store), `apply` (one write). The
worker reads and writes a whole batch of claimed checks at a time, so a transaction's fixed
cost is shared by many evaluations.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.actions import alerts as alert_actions
from tocsin.alerts import service as alerts
from tocsin.alerts.lifecycle import Desired, plan
from tocsin.alerts.models import AlertEvent
from tocsin.alerts.service import NewAlert
from tocsin.checks import service as checks
from tocsin.checks.evaluate import (
    RowResult,
    aggregate,
    evaluate_rows,
    in_active_hours,
    resolve_params,
    row_labels,
)
from tocsin.checks.sources.base import Source
from tocsin.config.checks import CheckConfig
from tocsin.errors import Conflict, SourceError
from tocsin.fingerprint import fingerprint
from tocsin.pipeline import Pipeline


@dataclass(frozen=True)
class Snapshot:
    """What an evaluation needs from the store, read before the source is queried."""

    previous: dict[str, str]
    pending: dict[str, tuple[str, datetime]]
    history: dict[str, float | None] | None
    has_open: bool = True  # any open alert of the check; False lets `apply` skip re-reading


@dataclass
class Outcome:
    """The result of evaluating a check once, before anything is written."""

    check_name: str
    started_at: datetime
    finished_at: datetime
    status: str  # ok | error | inactive
    results: list[RowResult] = field(default_factory=list)
    error_kind: str | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    snapshot: Snapshot | None = None  # what the evaluation started from; None: assume anything


@dataclass(frozen=True)
class Run:
    """One claimed slot of a check and what evaluating it found: the unit `apply` writes."""

    check: CheckConfig
    claim: checks.Claim
    outcome: Outcome


def snapshot(session: Session, check: CheckConfig, now: datetime) -> Snapshot:
    return snapshots(session, [check], now)[check.name]


def snapshots(
    session: Session, configs: Sequence[CheckConfig], now: datetime
) -> dict[str, Snapshot]:
    """Snapshots of several checks: one query for their open alerts, one for their pending
    series, and one per check whose baseline is its own history."""
    names = [check.name for check in configs]
    open_alerts = alerts.open_for_checks(session, names)
    pending = checks.pending(session, names)
    out = {}
    for check in configs:
        by_origin = open_alerts.get(check.name, {})
        out[check.name] = Snapshot(
            previous={fp: a.severity for fp, a in by_origin.get("check", {}).items()},
            pending=pending[check.name],
            history=_history(session, check, now),
            has_open=bool(by_origin),
        )
    return out


def _history(session: Session, check: CheckConfig, now: datetime) -> dict[str, float | None] | None:
    if check.baseline is None or check.baseline.history is None:
        return None
    spec = check.baseline.history
    samples = checks.history(session, check.name, now - spec.window, now - spec.exclude_recent)
    return {
        fp: aggregate(values, spec.aggregate) if len(values) >= spec.min_samples else None
        for fp, values in samples.items()
    }


def evaluate(check: CheckConfig, source: Source, snap: Snapshot, now: datetime) -> Outcome:
    """Query the source and apply the check's logic; never raises for a source's failure."""
    started = time.perf_counter()
    outcome = Outcome(check.name, now, now, "ok", snapshot=snap)
    try:
        if not in_active_hours(check.active_hours, now):
            outcome.status = "inactive"
        else:
            params: dict[str, Any] = dict(resolve_params(check.params, now, check.timezone))
            rows = source.fetch(check.query_for(source.dialect), params)
            baselines = snap.history
            if check.baseline is not None and check.baseline.history is None:
                baselines = _query_baselines(check, source, params)
            outcome.results = evaluate_rows(
                check,
                rows,
                dialect=source.dialect,
                now=now,
                previous=snap.previous,
                pending=snap.pending,
                baselines=baselines,
            )
    except SourceError as exc:
        outcome.status, outcome.error_kind, outcome.error = "error", exc.kind, str(exc)
    outcome.elapsed_ms = (time.perf_counter() - started) * 1000
    return outcome


def _query_baselines(
    check: CheckConfig, source: Source, params: Mapping[str, Any]
) -> dict[str, float | None]:
    assert check.baseline is not None
    spec = check.baseline
    query = spec.query
    if spec.queries is not None:
        query = spec.queries.get(source.dialect, spec.queries.get("default"))
    if query is None:
        raise SourceError("query", f"the baseline has no query for dialect {source.dialect}")
    out: dict[str, float | None] = {}
    for row in source.fetch(query, params):
        if spec.column not in row:
            raise SourceError("query", f"the baseline result has no column {spec.column!r}")
        labels = row_labels(check, row, check.key)
        raw = row[spec.column]
        out[fingerprint(check.name, labels)] = None if raw is None else float(raw)
    return out


def apply(
    session: Session,
    runs: Sequence[Run],
    *,
    now: datetime,
    pipeline: Pipeline,
    worker_id: str | None = None,
) -> list[AlertEvent]:
    """Write a batch of evaluations and everything they cause, then advance their schedules.

    Steps: insert every evaluation and sample in bulk; read open alerts once, only for the
    checks whose snapshot saw some (a check's alerts are only opened under its lease, so one
    that had none still has none, or the lease was lost and `complete` rolls everything back);
    apply each check's transitions; advance every schedule by compare-and-set.
    Raises Conflict (caller rolls back) if another worker took any of the slots meanwhile.
    """
    checks.record(
        session,
        [
            checks.Record(
                check_name=run.check.name,
                slot_at=run.claim.slot_at,
                started_at=run.outcome.started_at,
                finished_at=now,
                status=run.outcome.status,
                results=run.outcome.results,
                error_kind=run.outcome.error_kind,
                error=run.outcome.error,
                worker_id=worker_id,
            )
            for run in runs
        ],
    )
    open_alerts = alerts.open_for_checks(
        session,
        [
            run.check.name
            for run in runs
            if run.outcome.snapshot is None or run.outcome.snapshot.has_open
        ],
    )
    events: list[AlertEvent] = []
    done = []
    for run in runs:
        check, outcome = run.check, run.outcome
        errors = run.claim.consecutive_errors + 1 if outcome.status == "error" else 0
        by_origin = open_alerts.get(check.name, {})
        if outcome.status != "error":
            # An error never resolves anything: no false all-clear from a source that is down.
            events += _apply_results(
                session, check, outcome, by_origin.get("check", {}), now, pipeline
            )
            _save_pending(session, check, outcome)
        events += _apply_check_error(
            session, check, outcome, by_origin.get("check_error", {}), errors, now, pipeline
        )
        done.append(checks.completion(run.claim, check, now, errors))
    checks.complete(session, done, now)
    return events


def _save_pending(session: Session, check: CheckConfig, outcome: Outcome) -> None:
    """Rewrite the check's pending series only when they changed (usually there are none)."""
    series = checks.pending_of(outcome.results)
    before = outcome.snapshot.pending if outcome.snapshot is not None else None
    if series != before:
        checks.save_pending(session, check.name, series)


def _apply_results(
    session: Session,
    check: CheckConfig,
    outcome: Outcome,
    open_alerts: dict[str, alerts.OpenAlert],
    now: datetime,
    pipeline: Pipeline,
) -> list[AlertEvent]:
    by_fp = {r.fingerprint: r for r in outcome.results}
    changes = plan(
        {fp: a.severity for fp, a in open_alerts.items()},
        [Desired(r.fingerprint, r.severity) for r in outcome.results],
    )
    events: list[AlertEvent] = []
    for change in changes:
        result = by_fp.get(change.fingerprint)
        alert = open_alerts.get(change.fingerprint)
        if change.kind == "fire" and result is not None and change.severity is not None:
            new = NewAlert(
                fingerprint=result.fingerprint,
                origin="check",
                check_name=check.name,
                labels=result.labels,
                severity=change.severity,
                title=result.title,
                message=result.message,
                value=result.value,
                runbook=check.runbook,
            )
            try:
                _, event = alert_actions.fire(session, pipeline, new, now)
            except Conflict:
                continue
            events.append(event)
        elif change.kind == "severity" and alert is not None and result is not None:
            _, event = alert_actions.change_severity(
                session,
                pipeline,
                alert.id,
                str(change.severity),
                now,
                value=result.value,
                message=result.message,
            )
            events.append(event)
        elif change.kind == "resolve" and alert is not None:
            note = "outside active hours" if outcome.status == "inactive" else "condition cleared"
            if result is not None:  # the row is still there: show the value that cleared it
                alerts.refresh_details(
                    session, alert, now, value=result.value, message=result.message
                )
            _, event = alert_actions.resolve(session, pipeline, alert.id, None, now, note)
            events.append(event)
        elif change.kind == "keep" and alert is not None and result is not None:
            alerts.refresh_details(session, alert, now, value=result.value, message=result.message)
    return events


def check_error_fingerprint(check: CheckConfig) -> str:
    return fingerprint(f"{check.name}:check_error", check.labels)


def _apply_check_error(
    session: Session,
    check: CheckConfig,
    outcome: Outcome,
    open_error: dict[str, alerts.OpenAlert],
    errors: int,
    now: datetime,
    pipeline: Pipeline,
) -> list[AlertEvent]:
    """The check's own error state: an alert of its own after `on_error.after` failures,
    resolved by the next evaluation that works."""
    current = next(iter(open_error.values()), None)
    if outcome.status != "error":
        if current is None:
            return []
        note = "the check works again"
        _, event = alert_actions.resolve(session, pipeline, current.id, None, now, note)
        return [event]
    if current is not None or errors < check.on_error.after:
        if current is not None:
            alerts.refresh_details(session, current, now, value=None, message=str(outcome.error))
        return []
    new = NewAlert(
        fingerprint=check_error_fingerprint(check),
        origin="check_error",
        check_name=check.name,
        labels={**check.labels, "check": check.name},
        severity=check.on_error.severity,
        title=f"Check {check.name} cannot run ({outcome.error_kind})",
        message=str(outcome.error),
        runbook=check.runbook,
    )
    try:
        _, event = alert_actions.fire(session, pipeline, new, now)
    except Conflict:
        return []
    return [event]
