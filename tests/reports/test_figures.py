"""Tocsin's own figures from a known history: alerts by severity, MTTA and MTTR percentiles
against their targets, the alert-quality ledger and its false-positive rate, notifications
and pages at night, escalations that reached a second step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tocsin import actions
from tocsin.alerts.service import NewAlert
from tocsin.checks.models import Evaluation
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.config.reports import FiguresSectionConfig
from tocsin.db import read_scope, session_scope
from tocsin.fingerprint import fingerprint
from tocsin.incidents.service import NewIncident
from tocsin.noise.stats import mark_noise
from tocsin.pipeline import Pipeline
from tocsin.reports.figures import compute, percentile
from tocsin.reports.render import figure_lines

START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)  # 09:00 in New York
MIN = timedelta(minutes=1)
CONFIG = """
channels: {console: {type: console}}
routes: {notify: [console], escalation: page}
escalation_policies:
  page:
    steps:
      - {after: 0s, notify: [console]}
      - {after: 15m, notify: [console]}
"""


def history(factory: sessionmaker[Session], clock: VirtualClock) -> None:
    """Five alerts in the day after START (and one the day before, outside the window):

    payments: CRITICAL acked in 2 min, fixed in 30 min; CRITICAL acked in 10 min, fixed in 2 h
    queue: WARNING resolved in 3 min unacknowledged (transient); WARNING acked in 1 min and
    marked noise, resolved in 5 min; WARNING still open; payments again at 03:00 New York."""
    pipeline = Pipeline(parse(CONFIG, "t.yaml", env={})[0])
    plan: list[tuple[str, str, timedelta, timedelta | None, timedelta | None, bool]] = [
        ("payments", "CRITICAL", -2 * 60 * MIN, 1 * MIN, 5 * MIN, False),  # before the window
        ("payments", "CRITICAL", 60 * MIN, 2 * MIN, 30 * MIN, False),
        ("payments", "CRITICAL", 120 * MIN, 10 * MIN, 120 * MIN, False),
        ("queue", "WARNING", 180 * MIN, None, 3 * MIN, False),
        ("queue", "WARNING", 240 * MIN, 1 * MIN, 5 * MIN, True),
        ("queue", "WARNING", 300 * MIN, None, None, False),
    ]
    events: list[tuple[datetime, str, int, int]] = []  # (at, kind, plan index, alert id)
    for i, (check, severity, start, ack, fix, noise) in enumerate(plan):
        at = START + start
        with session_scope(factory) as s:
            alert, _ = actions.alerts.fire(
                s,
                pipeline,
                NewAlert(
                    fingerprint=fingerprint(check, {"n": str(i)}),
                    origin="check",
                    check_name=check,
                    labels={"n": str(i)},
                    severity=severity,
                    title=f"{check} {i}",
                    message="",
                ),
                at,
            )
            alert_id = alert.id
        if ack is not None:
            events.append((at + ack, "ack" + ("-noise" if noise else ""), i, alert_id))
        if fix is not None:
            events.append((at + fix, "resolve", i, alert_id))
    for at, kind, _, alert_id in sorted(events):
        with session_scope(factory) as s:
            if kind.startswith("ack"):
                actions.alerts.acknowledge(s, pipeline, alert_id, "ana", at)
                if kind == "ack-noise":
                    mark_noise(s, alert_id, "ana", at)
            else:
                actions.alerts.resolve(s, pipeline, alert_id, "ana", at)
    # The second step of the still-open alert's escalation is due 15 minutes in.
    with session_scope(factory) as s:
        pipeline.escalator.fire_due(s, START + 330 * MIN)


def test_percentiles_are_inclusive() -> None:
    assert percentile([60, 120, 600], 50) == 120
    assert percentile([60, 120, 600], 90) == pytest.approx(504)
    assert percentile([42], 90) == 42
    assert percentile([], 50) is None


def test_figures_of_a_known_day(factory: sessionmaker[Session], clock: VirtualClock) -> None:
    history(factory, clock)
    spec = FiguresSectionConfig(type="figures", timezone="America/New_York")
    with read_scope(factory) as s:
        found = compute(s, spec, START, START + timedelta(days=1))

    assert found["alerts"] == {
        "count": 5,
        "by_severity": {"CRITICAL": 2, "WARNING": 3},
        "open": 1,
    }
    mtta = found["mtta"]["all"]
    assert (mtta["count"], mtta["p50_seconds"]) == (3, 120)
    assert mtta["p90_seconds"] == pytest.approx(504)
    assert (mtta["within_target"], mtta["target_seconds"]) == (2, 300)
    assert found["mtta"]["by_severity"]["CRITICAL"]["p50_seconds"] == 360
    mttr = found["mttr"]["all"]
    assert (mttr["count"], mttr["p50_seconds"], mttr["within_target"]) == (4, 1050, 3)

    ledger = found["quality"]
    assert ledger["checks"]["payments"] == {
        "transient": 0,
        "noise": 0,
        "actionable": 2,
        "open": 0,
        "in_incident": 0,
        "noise_candidates": 2,
        "false_positive_rate": 0.0,
        "over_bar": False,
    }
    assert ledger["checks"]["queue"] == {
        "transient": 1,
        "noise": 1,
        "actionable": 0,
        "open": 1,
        "in_incident": 0,
        "noise_candidates": 0,
        "false_positive_rate": 1.0,
        "over_bar": True,
    }
    assert ledger["false_positive_rate"] == 0.5
    assert found["escalations"] == {"reached_step_2": 1}
    assert found["notifications"]["count"] > 0
    assert found["night_pages"]["count"] == 0  # everything happened in New York's day

    lines = figure_lines(found)
    assert "- Alerts: 5 (CRITICAL 2, WARNING 3); 1 still open" in lines
    assert "- MTTA: p50 2.0 min, p90 8.4 min; 2/3 within 5.0 min" in lines
    assert (
        "  - queue: 0 actionable (0 in an incident), 1 transient, 1 noise, 1 open; "
        "100.0 % ⚠ over the bar"
    ) in lines


def test_pages_at_night_are_read_in_the_sections_zone(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    pipeline = Pipeline(parse(CONFIG, "t.yaml", env={})[0])
    three_am_ny = START + timedelta(hours=18)
    with session_scope(factory) as s:
        actions.alerts.fire(
            s,
            pipeline,
            NewAlert(
                fingerprint=fingerprint("night", {}),
                origin="event",
                labels={},
                severity="CRITICAL",
                title="down at night",
                message="",
            ),
            three_am_ny,
        )
    window = (START, START + timedelta(days=1))
    with read_scope(factory) as s:
        new_york = compute(
            s, FiguresSectionConfig(type="figures", timezone="America/New_York"), *window
        )
        tokyo = compute(s, FiguresSectionConfig(type="figures", timezone="Asia/Tokyo"), *window)
    assert new_york["night_pages"]["count"] == new_york["notifications"]["count"] > 0
    assert tokyo["night_pages"]["count"] == 0  # 17:00 in Tokyo


def test_time_to_detect_and_incidents(factory: sessionmaker[Session]) -> None:
    """payments fires at +10 min from an evaluation whose condition was pending since +4 min
    (a `for`); queue fires at +20 min from its evaluation of slot +19 min. An incident is
    declared for the payments alert at +12 min and resolved at +52 min."""
    pipeline = Pipeline(parse(CONFIG, "t.yaml", env={})[0])
    fired = {}
    for check, at, slot, pending in (
        ("payments", 10 * MIN, 10 * MIN, 4 * MIN),
        ("queue", 20 * MIN, 19 * MIN, None),
    ):
        fp = fingerprint(check, {})
        with session_scope(factory) as s:
            s.add(
                Evaluation(
                    check_name=check,
                    slot_at=START + slot,
                    started_at=START + at,
                    finished_at=START + at,
                    duration_ms=5.0,
                    status="ok",
                    results=[
                        {
                            "fingerprint": fp,
                            "pending_since": (START + pending).isoformat() if pending else None,
                        }
                    ],
                )
            )
            alert, _ = actions.alerts.fire(
                s,
                pipeline,
                NewAlert(
                    fingerprint=fp,
                    origin="check",
                    check_name=check,
                    labels={},
                    severity="CRITICAL",
                    title=check,
                    message="",
                ),
                START + at,
            )
            fired[check] = alert.id
    with session_scope(factory) as s:
        actions.alerts.acknowledge(s, pipeline, fired["payments"], "ana", START + 11 * MIN)
        incident = actions.incidents.declare(
            s,
            pipeline,
            NewIncident(title="Payments down", severity="SEV-1"),
            "ana",
            START + 12 * MIN,
            alert_ids=[fired["payments"]],
        )
        incident_id = incident.id
    with session_scope(factory) as s:
        actions.incidents.move(s, pipeline, incident_id, "resolved", "ana", START + 52 * MIN)
    spec = FiguresSectionConfig(type="figures")
    with read_scope(factory) as s:
        found = compute(s, spec, START, START + timedelta(days=1))
    detect = found["detect"]
    assert detect["by_check"]["payments"]["p50_seconds"] == 6 * 60
    assert detect["by_check"]["queue"]["p50_seconds"] == 60
    assert (detect["all"]["count"], detect["all"]["within_target"]) == (2, 1)
    assert found["incidents"]["count"] == 1
    assert found["incidents"]["by_severity"] == {"SEV-1": 1}
    assert found["incidents"]["open"] == 0
    assert found["incidents"]["time_to_resolve"]["p50_seconds"] == 40 * 60
    assert found["quality"]["checks"]["payments"]["in_incident"] == 1
    lines = figure_lines(found)
    assert "- Time to detect: p50 3.5 min, p90 5.5 min; 1/2 within 5.0 min" in lines
    assert "- Incidents: 1 (SEV-1 1); 0 still open; resolved in p50 40.0 min" in lines
