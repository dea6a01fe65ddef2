"""Inhibition under a storm: how long screening one new alert takes when 10,000 alerts are
already open and an inhibit rule's target matchers match every new alert.

What it measures, per run, on a fresh SQLite store (or `--url` PostgreSQL database):
- setup: `--open` alerts fired straight into the store (not screened), across `--services`
  services, one of which has a firing source alert (`check="db_unreachable"`); then the
  worker's noise seed, as on start;
- per new alert: wall time of `Pipeline.dispatch` for one freshly fired target alert (one
  transaction each, the last `--probe` alerts), half in the source's service (inhibited)
  and half elsewhere (notified). Printed as the median and the 95th percentile in ms.

Rule: source `check="db_unreachable"`, target `check!="db_unreachable"`, equal [service].

Run: `.venv/bin/python bench/inhibition.py [--open 10000] [--probe 200] [--runs 3]`
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tocsin import noise, store
from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.fingerprint import fingerprint
from tocsin.noise.models import MutedAlert
from tocsin.pipeline import Pipeline

START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
CONFIG = """
channels:
  console: {type: console}
inhibit_rules:
  - source_matchers: ['check="db_unreachable"']
    target_matchers: ['check!="db_unreachable"']
    equal: [service]
"""


def fire(
    session: Session, check: str, labels: dict[str, str], now: datetime, severity: str = "HIGH"
) -> tuple[Alert, AlertEvent]:
    new = alerts.NewAlert(
        fingerprint=fingerprint(check, labels),
        origin="check",
        check_name=check,
        labels=labels,
        severity=severity,
        title=check,
        message="",
    )
    return alerts.fire(session, new, now)


def run_once(url: str, open_n: int, services: int, probe: int) -> dict[str, float]:
    engine = make_engine(url)
    store.upgrade(engine)
    factory = make_sessionmaker(engine)
    config, _ = parse(CONFIG, "inhibit.yaml", env={})
    pipeline = Pipeline(config)
    clock = VirtualClock(START)
    now = clock.now()
    with session_scope(factory) as session:
        fire(session, "db_unreachable", {"service": "svc0"}, now, "CRITICAL")
        for i in range(open_n):
            fire(session, "errors", {"service": f"svc{i % services}", "instance": str(i)}, now)
    with session_scope(factory) as session:
        noise.seed(session, config, now)
    timings = []
    for i in range(probe):
        clock.advance(timedelta(seconds=1))
        labels = {"service": "svc0" if i % 2 == 0 else "svc1", "instance": f"new{i}"}
        began = time.perf_counter()
        with session_scope(factory) as session:
            alert, event = fire(session, "latency", labels, clock.now())
            pipeline.dispatch(session, [(alert, event)], clock.now())
        timings.append((time.perf_counter() - began) * 1000)
    with session_scope(factory) as session:
        inhibited = session.query(MutedAlert).filter(MutedAlert.kind == "inhibition").count()
    engine.dispose()
    timings.sort()
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95) - 1],
        "inhibited": inhibited,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--probe", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="a PostgreSQL URL to an empty database (default: SQLite)")
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.url or f"sqlite:///{tmp}/inhibit.db"
            figures = run_once(url, args.open, args.services, args.probe)
        results.append(figures)
        print(f"run {run + 1}: " + ", ".join(f"{k}={v:.2f}" for k, v in figures.items()))
    median = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(f"open alerts: {args.open}; new alerts screened: {args.probe}")
    print(f"dispatch of one new alert (median of runs): {median['median_ms']:.2f} ms")
    print(f"dispatch of one new alert, p95 (median of runs): {median['p95_ms']:.2f} ms")
    print(f"inhibited: {median['inhibited']:.0f} (expected {args.probe // 2})")


if __name__ == "__main__":
    main()
