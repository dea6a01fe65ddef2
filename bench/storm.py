"""An alert storm through noise control: 10,000 alerts firing within one virtual minute
across 50 groups.

What it measures, per run, on a fresh SQLite store (or `--url` PostgreSQL database):
- ingest: wall time to fire the 10,000 alerts through `Pipeline.dispatch` (screening and
  grouping included), in batches of `--batch` alerts per transaction, the virtual clock
  moving evenly across the minute and the worker ticking after each batch (as a running
  worker would: groups due during the storm flush during the storm);
- notifications: outbox rows written, and the most any group got within one
  `group_interval` (target: at most 1);
- drain: wall time, after the storm's last alert, for the worker to flush every group and
  send every notification (the virtual clock jumps to each next due flush, so deliberate
  waits cost nothing; target: within 5 s);
- peak RSS of the process (VmHWM; target: under 200 MB).

The channel is a console channel writing to a list (what is measured is Tocsin, not a
webhook). Grouping: `by: [service, check]`, group_wait 30 s, group_interval 5 m,
repeat_interval 4 h; alerts `storm_<g>` with labels {service: svc<g>, instance: <i>}.

Figures are printed per run and then as medians. Exits non-zero if a target is missed.

Run: `.venv/bin/python bench/storm.py [--alerts 10000] [--groups 50] [--runs 3]`
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from tocsin import actions, store
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.fingerprint import fingerprint
from tocsin.noise.models import AlertGroup
from tocsin.outbox.models import Notification
from tocsin.worker.loop import Worker

START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
CONFIG = """
channels:
  console: {type: console}
grouping: {by: [service, check], group_wait: 30s, group_interval: 5m, repeat_interval: 4h}
"""


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_once(url: str, alerts_n: int, groups_n: int, batch: int) -> dict[str, float]:
    engine = make_engine(url)
    store.upgrade(engine)
    factory = make_sessionmaker(engine)
    config, _ = parse(CONFIG, "storm.yaml", env={})
    assert config.grouping is not None
    clock = VirtualClock(START)
    sink: list[str] = []
    worker = Worker(config, factory, clock, console_write=sink.append, threads=False)
    worker.start()
    step = timedelta(minutes=1) / alerts_n
    began = time.perf_counter()
    for first in range(0, alerts_n, batch):
        with session_scope(factory) as session:
            for i in range(first, min(first + batch, alerts_n)):
                group = i % groups_n
                labels = {"service": f"svc{group}", "instance": str(i)}
                actions.alerts.fire(
                    session,
                    worker.pipeline,
                    actions.alerts.NewAlert(
                        fingerprint=fingerprint(f"storm_{group}", labels),
                        origin="check",
                        check_name=f"storm_{group}",
                        labels=labels,
                        severity="HIGH",
                        title=f"storm {group}",
                        message=f"instance {i} down",
                    ),
                    clock.now(),
                )
        clock.advance(step * batch)
        worker.tick()
    ingest = time.perf_counter() - began
    began = time.perf_counter()
    while True:
        if worker.tick():
            continue
        with session_scope(factory) as session:
            due = session.scalar(select(func.min(AlertGroup.next_flush_at)))
        if due is None:
            break
        clock.set(max(due, clock.now()))
    drain = time.perf_counter() - began
    worker.stop()
    with session_scope(factory) as session:
        rows = session.execute(select(Notification.payload, Notification.created_at)).all()
        pending = session.scalar(
            select(func.count()).select_from(Notification).where(Notification.state != "sent")
        )
    engine.dispose()
    per_group: dict[int, list[datetime]] = defaultdict(list)
    for payload, created in rows:
        per_group[payload["group"]["id"]].append(created)
    interval = config.grouping.group_interval
    worst = max(
        sum(1 for t in times if start <= t < start + interval)
        for times in per_group.values()
        for start in times
    )
    counted = sum(p["group"]["count"] for p, _ in rows)
    return {
        "ingest_s": ingest,
        "alerts_per_s": alerts_n / ingest,
        "notifications": len(rows),
        "alerts_in_notifications": counted,
        "max_per_group_interval": worst,
        "unsent": pending or 0,
        "drain_s": drain,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="a PostgreSQL URL to an empty database (default: SQLite)")
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.url or f"sqlite:///{tmp}/storm.db"
            figures = run_once(url, args.alerts, args.groups, args.batch)
        results.append(figures)
        print(f"run {run + 1}: " + ", ".join(f"{k}={v:.2f}" for k, v in figures.items()))
    median = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(f"alerts: {args.alerts} across {args.groups} groups within one virtual minute")
    print(f"ingest (median): {median['ingest_s']:.2f} s ({median['alerts_per_s']:.0f} alerts/s)")
    print(
        f"notifications written: {median['notifications']:.0f} "
        f"(covering {median['alerts_in_notifications']:.0f} alerts)"
    )
    print(
        f"most notifications for one group within group_interval: "
        f"{median['max_per_group_interval']:.0f} (target ≤ 1)"
    )
    print(f"drain after the storm (median): {median['drain_s']:.2f} s (target ≤ 5 s)")
    print(f"peak RSS (median): {median['peak_rss_mb']:.1f} MB (target < 200 MB)")
    missed = (
        median["max_per_group_interval"] > 1
        or median["drain_s"] > 5
        or median["peak_rss_mb"] >= 200
        or median["unsent"] > 0
        or median["alerts_in_notifications"] != args.alerts
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
