"""Tocsin's own figures over a window, from the store: alerts by severity, MTTA and MTTR
(p50/p90, share within the ACK/FIX targets), escalations that reached a second step,
notifications per day and per channel, pages at night, and the alert-quality ledger.

Alerts count in the window they started in; an alert still open at the window's end has no
MTTR yet and is left out of it (not counted as fast)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from statistics import quantiles
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, AlertEvent
from tocsin.checks.models import Evaluation
from tocsin.config.fields import SEVERITIES
from tocsin.config.reports import FiguresSectionConfig
from tocsin.escalation.models import EscalationStep
from tocsin.incidents.models import Incident, IncidentAlert
from tocsin.outbox.models import Notification

NIGHT = (time(22, 0), time(8, 0))  # 22:00-08:00 in the section's zone
FALSE_POSITIVE_BAR = 0.05  # reference 000 6.2.4: a false-positive rate below 5 %


def percentile(values: list[float], p: int) -> float | None:
    """The p-th percentile (inclusive method); the value itself for one value."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return quantiles(sorted(values), n=100, method="inclusive")[p - 1]


def _spread(values: list[float], target: timedelta) -> dict[str, Any]:
    seconds = target.total_seconds()
    within = sum(1 for v in values if v <= seconds)
    return {
        "count": len(values),
        "p50_seconds": percentile(values, 50),
        "p90_seconds": percentile(values, 90),
        "target_seconds": seconds,
        "within_target": within,
        "within_target_ratio": within / len(values) if values else None,
    }


def _alerts(session: Session, since: datetime, until: datetime) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.started_at >= since, Alert.started_at < until)
            .order_by(Alert.id)
        )
    )


def _by_severity(alerts: list[Alert], attribute: str, until: datetime) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for alert in alerts:
        end = getattr(alert, attribute)
        if end is not None and end <= until:
            out.setdefault(alert.severity, []).append((end - alert.started_at).total_seconds())
    return out


def _times(
    alerts: list[Alert], attribute: str, target: timedelta, until: datetime
) -> dict[str, Any]:
    grouped = _by_severity(alerts, attribute, until)
    every = [v for values in grouped.values() for v in values]
    return {
        "all": _spread(every, target),
        "by_severity": {sev: _spread(grouped[sev], target) for sev in SEVERITIES if sev in grouped},
    }


def is_night(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone).time()
    return local >= NIGHT[0] or local < NIGHT[1]


def quality(session: Session, alerts: list[Alert], until: datetime) -> dict[str, Any]:
    """The ledger: each alert is transient (resolved before anyone acknowledged it), noise
    (marked as noise when acknowledged), actionable (acknowledged, not marked noise) or open
    (neither yet). The false-positive rate per check is (transient + noise) / classed. Of
    the actionable, those linked to an incident are counted (`in_incident`), and the others
    are noise candidates: acknowledged, yet nothing came of them."""
    linked = set(
        session.scalars(
            select(IncidentAlert.alert_id).where(
                IncidentAlert.alert_id.in_([a.id for a in alerts]),
                IncidentAlert.linked_at <= until,
            )
        )
    )
    noise = set(
        session.scalars(
            select(AlertEvent.alert_id).where(
                AlertEvent.kind == "marked_noise",
                AlertEvent.alert_id.in_([a.id for a in alerts]),
                AlertEvent.at <= until,
            )
        )
    )
    per: dict[str, Counter[str]] = {}
    for alert in alerts:
        acked = alert.acknowledged_at is not None and alert.acknowledged_at <= until
        resolved = alert.resolved_at is not None and alert.resolved_at <= until
        if alert.id in noise:
            kind = "noise"
        elif acked:
            kind = "actionable"
            per.setdefault(alert.check_name or f"({alert.origin})", Counter())[
                "in_incident" if alert.id in linked else "noise_candidate"
            ] += 1
        elif resolved:
            kind = "transient"
        else:
            kind = "open"
        per.setdefault(alert.check_name or f"({alert.origin})", Counter())[kind] += 1
    checks = {}
    for check, counts in sorted(per.items()):
        classed = counts["transient"] + counts["noise"] + counts["actionable"]
        false = counts["transient"] + counts["noise"]
        rate = false / classed if classed else None
        checks[check] = {
            **{k: counts[k] for k in ("transient", "noise", "actionable", "open")},
            "in_incident": counts["in_incident"],
            "noise_candidates": counts["noise_candidate"],
            "false_positive_rate": rate,
            "over_bar": rate is not None and rate > FALSE_POSITIVE_BAR,
        }
    total = Counter[str]()
    for counts in per.values():
        total.update(counts)
    classed = total["transient"] + total["noise"] + total["actionable"]
    return {
        "bar": FALSE_POSITIVE_BAR,
        "false_positive_rate": (total["transient"] + total["noise"]) / classed if classed else None,
        "checks": checks,
    }


def notifications(
    session: Session, since: datetime, until: datetime, zone: ZoneInfo
) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = session.execute(
        select(Notification.channel, Notification.target, Notification.created_at).where(
            Notification.created_at >= since,
            Notification.created_at < until,
            Notification.state.not_in(("digest", "digested")),
        )
    ).all()
    days = max((until - since).total_seconds() / 86400, 1 / 24)
    by_channel = Counter(row.channel for row in rows)
    by_target = Counter(row.target for row in rows if row.target)
    night = [row for row in rows if is_night(row.created_at, zone)]
    counts = {
        "count": len(rows),
        "per_day": round(len(rows) / days, 2),
        "by_channel": dict(sorted(by_channel.items())),
        "by_person": dict(sorted(by_target.items())),
    }
    pages = {
        "count": len(night),
        "by_channel": dict(sorted(Counter(row.channel for row in night).items())),
    }
    return counts, pages


def escalations(session: Session, since: datetime, until: datetime) -> dict[str, Any]:
    """Alerts whose escalation fired a second step or later (step numbers start at 0)."""
    reached = session.scalar(
        select(func.count(func.distinct(EscalationStep.alert_id))).where(
            EscalationStep.state == "fired",
            EscalationStep.step >= 1,
            EscalationStep.fired_at >= since,
            EscalationStep.fired_at < until,
        )
    )
    return {"reached_step_2": int(reached or 0)}


def detect(session: Session, alerts: list[Alert], target: timedelta) -> dict[str, Any]:
    """Time to detect, for alerts raised by checks: from the first evaluation that saw the
    condition (its `for` pending start, else the slot of the evaluation that fired) to the
    alert. One indexed look-up of the firing evaluation per alert."""
    by_check: dict[str, list[float]] = {}
    for alert in alerts:
        if alert.origin != "check" or alert.check_name is None:
            continue
        found = session.execute(
            select(Evaluation.slot_at, Evaluation.results)
            .where(
                Evaluation.check_name == alert.check_name,
                Evaluation.started_at <= alert.started_at,
            )
            .order_by(Evaluation.started_at.desc())
            .limit(1)
        ).first()
        if found is None:
            continue
        seen = found.slot_at
        for result in found.results or []:
            if result.get("fingerprint") == alert.fingerprint and result.get("pending_since"):
                seen = min(seen, datetime.fromisoformat(result["pending_since"]))
        by_check.setdefault(alert.check_name, []).append(
            max((alert.started_at - seen).total_seconds(), 0.0)
        )
    every = [v for values in by_check.values() for v in values]
    return {
        "all": _spread(every, target),
        "by_check": {name: _spread(v, target) for name, v in sorted(by_check.items())},
    }


def incidents(
    session: Session, since: datetime, until: datetime, fix_target: timedelta
) -> dict[str, Any]:
    """Incidents declared in the window: by severity, still open, and declared-to-resolved."""
    rows = session.execute(
        select(Incident.severity, Incident.declared_at, Incident.resolved_at).where(
            Incident.declared_at >= since, Incident.declared_at < until
        )
    ).all()
    resolved = [
        (row.resolved_at - row.declared_at).total_seconds()
        for row in rows
        if row.resolved_at is not None and row.resolved_at <= until
    ]
    by = Counter(row.severity for row in rows)
    return {
        "count": len(rows),
        "by_severity": dict(sorted(by.items())),
        "open": len(rows) - len(resolved),
        "time_to_resolve": _spread(resolved, fix_target),
    }


def compute(
    session: Session, spec: FiguresSectionConfig, since: datetime, until: datetime
) -> dict[str, Any]:
    """The figures `spec` names, over [since, until)."""
    alerts = _alerts(session, since, until)
    zone = ZoneInfo(spec.timezone)
    out: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat()}
    sent: tuple[dict[str, Any], dict[str, Any]] | None = None
    for name in spec.figures:
        if name == "alerts":
            by = Counter(a.severity for a in alerts)
            out["alerts"] = {
                "count": len(alerts),
                "by_severity": {sev: by[sev] for sev in SEVERITIES if by[sev]},
                "open": sum(1 for a in alerts if a.resolved_at is None or a.resolved_at > until),
            }
        elif name == "mtta":
            out["mtta"] = _times(alerts, "acknowledged_at", spec.ack_target, until)
        elif name == "mttr":
            out["mttr"] = _times(alerts, "resolved_at", spec.fix_target, until)
        elif name == "detect":
            out["detect"] = detect(session, alerts, spec.detect_target)
        elif name == "incidents":
            out["incidents"] = incidents(session, since, until, spec.fix_target)
        elif name == "escalations":
            out["escalations"] = escalations(session, since, until)
        elif name in ("notifications", "night_pages"):
            sent = sent or notifications(session, since, until, zone)
            out[name] = sent[0] if name == "notifications" else sent[1]
        elif name == "quality":
            out["quality"] = quality(session, alerts, until)
    return out
