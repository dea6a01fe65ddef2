"""`tocsin demo` end to end: the scenario's alerts come from the checks, at the right times."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from tocsin.demo.runner import ZONE, run_demo

pytestmark = pytest.mark.slow


def test_the_demo_tells_the_story_of_a_bad_morning(tmp_path: Path) -> None:
    console = Console(record=True, width=220, color_system=None)
    result = run_demo(console, workdir=tmp_path)
    timeline = [
        (at.astimezone(ZONE).strftime("%H:%M"), title, kind, severity)
        for at, title, kind, severity in result.events
    ]
    assert timeline[:3] == [
        ("09:40", "Payment processing stopped", "fired", "CRITICAL"),
        ("09:44", "Payment processing stopped", "acknowledged", "CRITICAL"),
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
    assert result.alerts == 5
    # Every transition went out on the console channel exactly once.
    assert result.notifications == len(timeline)
    text = console.export_text()
    assert "Summary" in text
    assert "5 alerts" in text
