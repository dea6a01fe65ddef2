"""An SLO test's configuration and history: a check `checkout` with availability and latency
SLOs over it, and alerts opened and resolved through the one door at given times."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tocsin import actions
from tocsin.alerts.service import NewAlert
from tocsin.checks.models import CheckSample
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.fingerprint import fingerprint
from tocsin.pipeline import Pipeline

SLO_CONFIG = """
sources: {shop: {type: sql, url: "sqlite:///unused.db"}}
channels: {console: {type: console}}
checks:
  - name: checkout
    source: shop
    schedule: {every: 1m}
    query: SELECT 1 AS v
    value: v
    conditions: [{when: "> 1", severity: CRITICAL}]
    labels: {service: shop}
slos:
  checkout-availability:
    service: shop
    description: The checkout answers
    sli: {type: availability, check: checkout}
    objective: 99.9
    window: 30d
  checkout-month:
    service: shop
    sli: {type: availability}
    objective: 99.5
    window: month
    timezone: America/New_York
    burn_alerts: false
  checkout-latency:
    service: shop
    sli: {type: latency, check: checkout, threshold: 500}
    objective: 99
    window: 7d
    burn_alerts: false
"""


def slo_config(extra: str = "") -> TocsinConfig:
    config, _ = parse(SLO_CONFIG + extra, "slo.yaml", env={})
    return config


def outage(
    factory: sessionmaker[Session],
    pipeline: Pipeline,
    start: datetime,
    end: datetime | None,
    *,
    check: str = "checkout",
    severity: str = "CRITICAL",
    n: int = 0,
) -> int:
    """An alert of `check` open from `start` to `end` (None: still open); its id."""
    with session_scope(factory) as s:
        alert, _ = actions.alerts.fire(
            s,
            pipeline,
            NewAlert(
                fingerprint=fingerprint(check, {"n": str(n)}),
                origin="check",
                check_name=check,
                labels={"service": "shop", "n": str(n)},
                severity=severity,
                title=f"{check} down",
                message="",
            ),
            start,
        )
        alert_id = alert.id
    if end is not None:
        with session_scope(factory) as s:
            actions.alerts.resolve(s, pipeline, alert_id, None, end)
    return alert_id


def samples(factory: sessionmaker[Session], values: list[tuple[datetime, float]]) -> None:
    with session_scope(factory) as s:
        s.add_all(
            CheckSample(check_name="checkout", fingerprint="f" * 32, at=at, value=v)
            for at, v in values
        )
