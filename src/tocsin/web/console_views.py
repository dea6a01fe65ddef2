"""How the console shows an alert: the list's query (filters, keyset pages) and the detail's
parts, as plain values for the templates. Reads only; changes go through `tocsin.actions`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.alerts.schemas import alert_out
from tocsin.escalation import service as escalation
from tocsin.noise import mutes
from tocsin.noise.models import MutedAlert
from tocsin.outbox.schemas import notification_out
from tocsin.outbox.service import for_alert

PAGE = 50
service_label = Alert.labels.op("->>")(literal_column("'service'"))
EVENTS = 100  # the detail's timeline: the newest this many, then "Older events"
STATES = ("open", "firing", "acknowledged", "resolved", "all")
SEVERITIES = ("CRITICAL", "HIGH", "WARNING", "INFO")
# The list's columns only: labels and message are small, `details` can be large.
_COLUMNS = (
    Alert.id,
    Alert.severity,
    Alert.state,
    Alert.title,
    Alert.labels,
    Alert.started_at,
    Alert.acknowledged_by,
)


class FilterError(ValueError):
    """A filter that cannot be read; `field` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class Filters:
    state: str = "open"
    severity: str = ""
    service: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    before: int | None = None

    def query(self, **changes: Any) -> str:
        """These filters as a query string, with `changes` applied (the next page)."""
        values: list[tuple[str, str]] = [("state", self.state)]
        if self.severity:
            values.append(("severity", self.severity))
        if self.service:
            values.append(("service", self.service))
        values += [("label", f"{k}={v}") for k, v in self.labels]
        if changes.get("before"):
            values.append(("before", str(changes["before"])))
        return urlencode(values)

    @property
    def label_text(self) -> list[str]:
        return [f"{k}={v}" for k, v in self.labels]


def read_filters(params: Any) -> Filters:
    """The list's filters from a query string; FilterError naming a bad one."""
    state = params.get("state") or "open"
    if state not in STATES:
        raise FilterError("state", f"one of {', '.join(STATES)}")
    severity = (params.get("severity") or "").upper()
    if severity and severity not in SEVERITIES:
        raise FilterError("severity", f"one of {', '.join(SEVERITIES)}")
    service = params.get("service") or ""
    labels = []
    for text in params.getlist("label"):
        if not text.strip():
            continue
        key, eq, value = text.partition("=")
        if not eq or not key.strip() or len(text) > 300:
            raise FilterError("label", f"{text[:50]!r} is not name=value")
        labels.append((key.strip(), value.strip()))
    before_text = params.get("before")
    before = None
    if before_text:
        if not before_text.isdigit() or not 1 <= int(before_text) < 2**63:
            raise FilterError("before", "an alert id")
        before = int(before_text)
    if len(service) > 200:
        raise FilterError("service", "at most 200 characters")
    return Filters(state, severity, service, tuple(labels[:10]), before)


@dataclass
class Listing:
    rows: list[dict[str, Any]]
    more: int | None  # the id to continue before
    muted: dict[int, str] = field(default_factory=dict)


def list_alerts(session: Session, filters: Filters, size: int = PAGE) -> Listing:
    """One page of alerts, newest first, and why each muted one is muted."""
    query = select(*_COLUMNS).order_by(Alert.id.desc()).limit(size + 1)
    if filters.state == "open":  # the partial index ix_alert_open_id's own condition
        query = query.where(Alert.state != "resolved")
    elif filters.state != "all":
        query = query.where(Alert.state == filters.state)
    if filters.severity:
        query = query.where(Alert.severity == filters.severity)
    pairs = list(filters.labels)
    if filters.service:
        pairs.append(("service", filters.service))
    for key, value in pairs:
        if key == "service":  # the expression of the index ix_alert_service_id
            query = query.where(service_label == value)
        else:
            query = query.where(Alert.labels[key].as_string() == value)
    if filters.before is not None:
        query = query.where(Alert.id < filters.before)
    rows = [row._asdict() for row in session.execute(query)]
    more = rows[size - 1]["id"] if len(rows) > size else None
    rows = rows[:size]
    ids = [r["id"] for r in rows]
    muted: dict[int, str] = {}
    if ids:
        for alert_id, kind, data in session.execute(
            select(MutedAlert.alert_id, MutedAlert.kind, MutedAlert.data).where(
                MutedAlert.alert_id.in_(ids)
            )
        ):
            muted[alert_id] = str((data or {}).get("reason") or kind)
    return Listing(rows, more, muted)


def labels_of(session: Session, ids: list[int]) -> list[dict[str, str]]:
    return [dict(row) for row in session.scalars(select(Alert.labels).where(Alert.id.in_(ids)))]


def shared_labels(labels: list[dict[str, str]]) -> dict[str, str]:
    """The label pairs every one of `labels` has (nothing for no alerts)."""
    if not labels:
        return {}
    shared = dict(labels[0])
    for one in labels[1:]:
        shared = {k: v for k, v in shared.items() if one.get(k) == v}
    return shared


def runbook_href(runbook: str | None) -> str | None:
    """A runbook is an http(s) URL or the slug of one of Tocsin's runbook pages; anything
    else (a `javascript:` URL) is not a link."""
    if not runbook:
        return None
    if runbook.startswith(("http://", "https://")):
        return runbook
    if ":" in runbook.split("/")[0]:
        return None
    return "/runbooks/" + quote(runbook, safe="")


def detail(session: Session, alert_id: int, before_event: int | None = None) -> dict[str, Any]:
    """The alert, the newest `EVENTS` of its timeline (before event id `before_event`),
    notifications, escalation steps and why it was (not) paged; NotFound if there is no
    such alert."""
    alert = alerts.get(session, alert_id)
    shown = alert_out(alert)
    shown.update(timeline(session, alert_id, before_event))
    shown["notifications"] = [notification_out(n) for n in for_alert(session, alert_id)]
    steps = escalation.for_alert(session, alert_id)
    policies = escalation.by_id(session, {s.escalation_id for s in steps})
    shown["steps"] = _steps(steps, policies)
    shown["explain"] = mutes.explain(session, alert)
    shown["runbook_href"] = runbook_href(alert.runbook)
    return shown


def timeline(session: Session, alert_id: int, before_event: int | None) -> dict[str, Any]:
    """One page of an alert's timeline, oldest first within the page, the id to continue
    before (`older`) and the number of events in all. Plain rows, not ORM objects, through
    the index ix_alert_event_alert_at: an alert that flapped for a day has thousands."""
    query = select(
        AlertEvent.id,
        AlertEvent.at,
        AlertEvent.kind,
        AlertEvent.state_to.label("to"),
        AlertEvent.severity,
        AlertEvent.actor,
        AlertEvent.note,
    ).where(AlertEvent.alert_id == alert_id)
    if before_event is not None:
        query = query.where(AlertEvent.id < before_event)
    newest = query.order_by(AlertEvent.id.desc()).limit(EVENTS + 1)
    rows = [r._asdict() for r in session.execute(newest)]
    older = rows[EVENTS - 1]["id"] if len(rows) > EVENTS else None
    total = session.scalar(
        select(func.count()).select_from(AlertEvent).where(AlertEvent.alert_id == alert_id)
    )
    return {
        "timeline": rows[:EVENTS][::-1],
        "older": older,
        "events": total or 0,
        "paged": before_event is not None,
    }


def _steps(steps: Sequence[Any], policies: dict[int, Any]) -> list[dict[str, Any]]:
    def targets(step: Any) -> str:
        spec = policies[step.escalation_id].spec if step.escalation_id in policies else {}
        specs = spec.get("steps") or []
        return ", ".join(specs[step.step]["notify"]) if step.step < len(specs) else ""

    return [
        {
            "step": s.step,
            "policy": policies[s.escalation_id].policy if s.escalation_id in policies else "",
            "targets": targets(s),
            "repeat": s.repeat,
            "due_at": s.due_at,
            "state": s.state,
            "fired_at": s.fired_at,
        }
        for s in steps
    ]
