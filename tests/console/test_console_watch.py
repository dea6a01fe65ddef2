"""The console's read-only pages: checks (last evaluations, the SVG chart of the value
against its thresholds), heartbeats (state and ping URL) and noise figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import (
    console_config,
    evaluations,
    give_passwords,
    open_alert,
    sign_in,
)

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.heartbeats import service as heartbeats
from tocsin.web.app import create_app
from tocsin.web.console_checks import chart
from tocsin.web.deps import Settings

EXTRA = """
sources:
  shop: {type: sql, url: "sqlite:///:memory:"}
checks:
  - name: error_rate
    source: shop
    schedule: {every: 1m}
    query: SELECT value FROM metric
    conditions:
      - {when: "> 0.05", severity: CRITICAL}
      - {when: "> 0.02", severity: WARNING}
heartbeats:
  - {name: nightly-backup, every: 1d, grace: 1h, uuid: 5f0c3a52-3bd4-4b8c-9d2b-2d6f0b1c9e11}
"""


@pytest.fixture
def watch(factory: sessionmaker[Session], clock: VirtualClock) -> Iterator[TestClient]:
    config = console_config(EXTRA)
    give_passwords(factory, clock, config)
    with session_scope(factory) as s:
        heartbeats.sync(s, config.heartbeats, clock.now())
    evaluations(factory, "error_rate", [0.01 * (i % 8) for i in range(30)], clock.now())
    with TestClient(create_app(Settings(config, factory, clock))) as client:
        yield client


def test_the_checks_list_and_a_checks_chart(watch: TestClient) -> None:
    assert sign_in(watch, "cy") == 303
    listing = watch.get("/checks").text
    assert 'href="/checks/error_rate"' in listing
    assert "every 1m" in listing
    page = watch.get("/checks/error_rate")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "<polyline" in page.text
    assert page.text.count('stroke-dasharray="6 4"') == 2  # the two thresholds
    assert "CRITICAL at 0.05" in page.text
    assert "style=" not in page.text  # the CSP allows no inline style
    assert watch.get("/checks/nothing").status_code == 404


def test_the_chart_scales_values_and_thresholds_into_the_box() -> None:
    from datetime import UTC, datetime

    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    drawn = chart([(t0, "a", 1.0), (t0 + timedelta(minutes=1), "a", 3.0)], [("CRITICAL", 5.0)])
    assert (drawn.low, drawn.high) == (1.0, 5.0)
    assert drawn.lines[0]["points"] == "4.0,156.0 636.0,80.0"
    assert drawn.thresholds[0]["y"] == "4.0"
    assert chart([], []).empty


def test_heartbeats_show_their_state_and_ping_url(watch: TestClient) -> None:
    assert sign_in(watch, "cy") == 303
    page = watch.get("/heartbeats").text
    assert "nightly-backup" in page
    assert "http://testserver/ping/5f0c3a52-3bd4-4b8c-9d2b-2d6f0b1c9e11" in page
    assert ">new<" in page


def test_noise_figures_per_check_over_a_period(
    watch: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    open_alert(factory, clock, console_config(), "n1")
    assert sign_in(watch, "cy") == 303
    page = watch.get("/noise?period=1d").text
    assert "all checks" in page
    assert "(inbound)" in page
    assert watch.get("/noise?period=1y").status_code == 400
