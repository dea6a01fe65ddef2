"""Worker memory with 100,000 open alerts in the store.

What it measures: the resident memory (VmRSS, and the peak VmHWM, from /proc/self/status) of a
worker process that evaluates every one of its checks once against a SQLite store holding
100,000 open alerts, and of an idle worker (no checks, empty store) for comparison. Each worker
runs in a fresh subprocess, so the memory used to build the store does not count.

Data: 100 checks `c000`…`c099`, each `key: [k]` with labels `{service: svcN}`, on one SQLite
source whose query returns the same 1,000 rows `k = 0…999` with `value = 50` (condition
`">= 10"` HIGH). The store is seeded with bulk Core inserts of the 1,000 matching open alerts
per check (state `firing`, severity HIGH, fingerprint `fingerprint(check, labels)`), so each
evaluation keeps its 1,000 alerts open: no alert fires or resolves, each is refreshed in place.
The worker ticks on a `VirtualClock` that does not move until a tick does no work, so each
check runs exactly once.

Figures: for each worker, RSS after `start()` and after the ticks, peak RSS, the time the
ticks took, and the open alerts, evaluations, timeline events and notifications counted in the
store afterwards (events and notifications must be 0, open alerts all the seeded ones: the
script exits non-zero otherwise). Then the loaded worker's peak RSS over the idle one's, in
total and divided by the open alerts in the store. The worker holds only the alerts of the
checks it is running (up to `concurrency`, 4, at once), so that per-alert figure shrinks as
the store grows: it is not a constant cost per alert.

The workers are built as `tocsin run` builds them (`threads=True`, default configuration).

Target: under 200 MB RSS with 100,000 open alerts (the worker never loads all of them).

Run: `.venv/bin/python bench/memory.py [--checks 100] [--alerts-per-check 1000]`
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from tocsin import store
from tocsin.alerts.lifecycle import OPEN
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.checks.models import Evaluation
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.fingerprint import fingerprint
from tocsin.outbox.models import Notification
from tocsin.worker.loop import Worker

START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
VALUE = 50
INSERT_CHUNK = 10_000


def check_name(i: int) -> str:
    return f"c{i:03d}"


def check_labels(i: int) -> dict[str, str]:
    return {"service": f"svc{i % 10}"}


def source_query(rows: int) -> str:
    return (
        f"WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < {rows - 1}) "
        f"SELECT k, {VALUE} AS value FROM n"
    )


def config_text(source_path: Path, checks: int, rows: int) -> str:
    lines = [
        "sources:",
        f'  src: {{type: sql, url: "sqlite:///{source_path}"}}',
        "channels:",
        "  console: {type: console}",
        "checks:" if checks else "checks: []",
    ]
    for i in range(checks):
        labels = ", ".join(f"{k}: {v}" for k, v in check_labels(i).items())
        lines += [
            f"  - name: {check_name(i)}",
            "    source: src",
            "    schedule: {every: 1m}",
            f'    query: "{source_query(rows)}"',
            "    key: [k]",
            f"    labels: {{{labels}}}",
            '    conditions: [{when: ">= 10", severity: HIGH}]',
        ]
    return "\n".join(lines) + "\n"


def alert_rows(i: int, rows: int) -> list[dict[str, Any]]:
    """The open alerts the check `i` keeps firing, exactly as the worker would identify them."""
    name = check_name(i)
    out = []
    for k in range(rows):
        labels = {**check_labels(i), "k": str(k)}
        out.append(
            {
                "fingerprint": fingerprint(name, labels),
                "origin": "check",
                "check_name": name,
                "labels": labels,
                "severity": "HIGH",
                "state": "firing",
                "title": f"{name.capitalize()} ({k})",
                "message": f"value = {VALUE}",
                "value": float(VALUE),
                "started_at": START,
                "updated_at": START,
            }
        )
    return out


def build(directory: Path, checks: int, rows: int) -> None:
    """Source, config and two stores: `loaded.db` (the open alerts) and `empty.db`."""
    source = directory / "source.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS placeholder (x)")
    (directory / "loaded.yaml").write_text(config_text(source, checks, rows))
    (directory / "idle.yaml").write_text(config_text(source, 0, rows))
    for name in ("loaded.db", "empty.db"):
        engine = make_engine(f"sqlite:///{directory / name}")
        store.upgrade(engine)
        engine.dispose()
    engine = make_engine(f"sqlite:///{directory / 'loaded.db'}")
    started = time.perf_counter()
    with engine.begin() as conn:
        pending: list[dict[str, Any]] = []
        for i in range(checks):
            pending += alert_rows(i, rows)
            if len(pending) >= INSERT_CHUNK:
                conn.execute(insert(Alert), pending)
                pending = []
        if pending:
            conn.execute(insert(Alert), pending)
    print(f"seed.insert_seconds: {time.perf_counter() - started:.2f} s", flush=True)
    engine.dispose()


def memory_mb() -> dict[str, float]:
    """VmRSS and VmHWM of this process, in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        field, _, rest = line.partition(":")
        if field in ("VmRSS", "VmHWM"):
            out[field] = int(rest.split()[0]) / 1024  # kB
    return out


def worker_process(directory: Path, scenario: str) -> None:
    """Run in a fresh interpreter: start a worker, tick until idle, print its memory."""
    config_file = "loaded.yaml" if scenario == "loaded" else "idle.yaml"
    store_file = "loaded.db" if scenario == "loaded" else "empty.db"
    config, _ = parse((directory / config_file).read_text(), config_file, env={})
    engine = make_engine(f"sqlite:///{directory / store_file}")
    factory = make_sessionmaker(engine)
    clock = VirtualClock(START)
    worker = Worker(config, factory, clock, worker_id=f"bench-{scenario}", console_write=print)
    worker.start()
    print(f"{scenario}.rss_after_start: {memory_mb()['VmRSS']:.1f} MB", flush=True)
    started = time.perf_counter()
    ticks = 0
    while worker.tick():
        ticks += 1
    elapsed = time.perf_counter() - started
    after = memory_mb()
    worker.stop()
    with session_scope(factory) as session:
        open_alerts = session.scalar(
            select(func.count()).select_from(Alert).where(Alert.state.in_(OPEN))
        )
        evaluations = session.scalar(select(func.count()).select_from(Evaluation))
        events = session.scalar(select(func.count()).select_from(AlertEvent))
        notifications = session.scalar(select(func.count()).select_from(Notification))
    engine.dispose()
    print(f"{scenario}.ticks: {ticks} ticks")
    print(f"{scenario}.tick_seconds: {elapsed:.2f} s")
    print(f"{scenario}.rss: {after['VmRSS']:.1f} MB")
    print(f"{scenario}.peak_rss: {after['VmHWM']:.1f} MB")
    print(f"{scenario}.open_alerts: {open_alerts} alerts")
    print(f"{scenario}.evaluations: {evaluations} evaluations")
    print(f"{scenario}.alert_events: {events} events")
    print(f"{scenario}.notifications: {notifications} notifications", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--checks", type=int, default=100, help="checks (default 100)")
    parser.add_argument(
        "--alerts-per-check", type=int, default=1000, help="open alerts per check (default 1000)"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scenario", choices=["loaded", "idle"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        worker_process(args.child, args.scenario)
        return
    print(f"checks: {args.checks} checks")
    print(f"open_alerts_seeded: {args.checks * args.alerts_per_check} alerts", flush=True)
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        directory = Path(tmp)
        build(directory, args.checks, args.alerts_per_check)
        figures: dict[str, float] = {}
        for scenario in ("idle", "loaded"):
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(directory), "--scenario", scenario],
                check=True,
                capture_output=True,
                text=True,
            )
            sys.stderr.write(child.stderr)
            for line in child.stdout.splitlines():
                print(line, flush=True)
                name, _, rest = line.partition(": ")
                figures[name] = float(rest.split()[0])
    over_idle = figures["loaded.peak_rss"] - figures["idle.peak_rss"]
    alerts = args.checks * args.alerts_per_check
    print(f"peak_rss_over_idle: {over_idle:.1f} MB")
    print(f"peak_rss_over_idle_per_open_alert: {over_idle * 1024 * 1024 / alerts:.0f} bytes")
    if (
        figures["loaded.open_alerts"] != alerts
        or figures["loaded.alert_events"]
        or figures["loaded.notifications"]
    ):
        raise SystemExit("the checks did not keep exactly the seeded alerts open: figures invalid")


if __name__ == "__main__":
    main()
