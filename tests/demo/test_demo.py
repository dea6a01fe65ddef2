"""`tocsin demo` end to end: the scenario's alerts come from the checks, at the right times."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from tocsin.demo.runner import ZONE, run_demo

pytestmark = pytest.mark.slow
TRANSITIONS = ("fired", "acknowledged", "severity_changed", "resolved")


def test_the_demo_tells_the_story_of_a_bad_morning(tmp_path: Path) -> None:
    console = Console(record=True, width=220, color_system=None)
    result = run_demo(console, workdir=tmp_path)
    every = [
        (at.astimezone(ZONE).strftime("%H:%M"), title, kind, severity)
        for at, title, kind, severity in result.events
    ]
    timeline = [e for e in every if e[2] in TRANSITIONS]
    assert timeline[:5] == [
        ("09:40", "Payment processing stopped", "fired", "CRITICAL"),
        ("09:44", "Payment processing stopped", "acknowledged", "CRITICAL"),
        # The incident the alert declared missed its 09:59 update: its commander was paged
        # 5 minutes later, and her update resolved the page.
        ("10:04", "INC-2026-11-17-001 missed its status update", "fired", "CRITICAL"),
        ("10:04", "INC-2026-11-17-001 missed its status update", "resolved", "CRITICAL"),
        ("10:05", "Payment processing stopped", "resolved", "CRITICAL"),
    ]
    by_title: dict[str, list[tuple[str, str]]] = {}
    for _, title, kind, severity in timeline:
        by_title.setdefault(title, []).append((kind, severity))
    assert by_title["Error rate above threshold"][:2] == [
        ("fired", "WARNING"),
        ("severity_changed", "HIGH"),
    ]
    assert by_title["Error rate above threshold"][-1][0] == "resolved"
    assert by_title["Printify response times degraded"] == [
        ("fired", "WARNING"),
        ("severity_changed", "HIGH"),
        ("resolved", "HIGH"),
    ]
    queue = by_title["Manual queue needs attention"]
    assert ("severity_changed", "CRITICAL") in queue
    assert queue[-1][0] == "resolved"
    assert by_title["Fulfilment cost anomaly"][-1] == ("severity_changed", "HIGH")
    assert result.alerts == 6  # the five checks' and the incident's missed-update page
    # The acknowledgement at 09:44 stopped the payment chain before its 5-minute phone step.
    payment = [e for e in every if e[1] == "Payment processing stopped"]
    assert ("09:44", "Payment processing stopped", "escalation_stopped", "CRITICAL") in payment
    assert "escalation_step" not in [e[2] for e in payment]  # step 1 was the route's own pd
    # The manual queue went CRITICAL unacknowledged: the phone step fired 5 minutes later.
    assert ("13:45", "Manual queue needs attention", "escalation_step", "CRITICAL") in every
    # What the stand-ins received, by service (§6.2.1's matrix, §6.2.3's policies).
    assert set(result.received) == {"Discord", "Email", "PagerDuty", "Slack", "Twilio"}
    assert result.notifications == sum(result.received.values())
    text = console.export_text()
    assert "PagerDuty: trigger tocsin-1 Payment processing stopped" in text
    assert "PagerDuty: acknowledge tocsin-1" in text
    assert "PagerDuty: resolve tocsin-1" in text
    assert "Twilio: call to +15551230002" in text
    # The incident declared at the acknowledgement runs the payment runbook's verification
    # steps once orders flow again; their outputs are on its timeline.
    # The CRITICAL payments alert declared the incident itself (the route's incident: auto);
    # ana took command at the acknowledgement and was reminded, then paged, for its update.
    assert "INC-2026-11-17-001 declared: SEV-1 Payment processing stopped" in text
    assert "ana takes command of INC-2026-11-17-001 and makes it public" in text
    assert "INC-2026-11-17-001 reminder sent" in text
    assert "INC-2026-11-17-001 update missed" in text
    assert "payment-processing-failure line " in text
    assert "orders_last_5_min" in text
    assert "stuck_orders" in text
    # Resolved: the post-mortem draft's figures and exact timeline are printed.
    assert "post-mortem draft written" in text
    assert "- time to acknowledge: 4m" in text
    # Noise control: 30 alerts in 90 s became one notification per channel of their route...
    assert "Stripe webhook failed (30 occurrences in 87 s)" in text
    assert result.storm_notifications == 3
    # ...and the maintenance window muted the checkout alert but recorded and counted it.
    assert result.muted_in_window == 1
    assert "not notified: maintenance window “Stripe API upgrade”" in text
    assert "Summary" in text
    assert "6 alerts" in text
    # The public incident declared at the acknowledgement is on the exported status page.
    assert result.incident == "INC-2026-11-17-001"
    assert result.status_url.endswith(f"/status#incident-{result.incident}")
    assert f"status page: {result.status_url}" in text
    exported = (tmp_path / "status" / "index.html").read_text()
    assert "Payment processing stopped" in exported
    assert "Card payments work again" in exported  # its resolving update
    assert "Stripe API upgrade" in exported  # the public maintenance window
