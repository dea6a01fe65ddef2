"""CPU used by `tocsin run` while idle with N open alerts (issue 6: 100,000, each in its own
group; target under 5% of one core; Alertmanager measured 1.6 cores).

What it measures: the % of one core the `tocsin run` process (API and worker in one process)
uses over `--seconds` (default 30) with nothing sent to it, read from /proc/PID/stat (utime
+ stime), after `--settle` seconds for start-up. Runs `--runs` times (fresh process each time)
and prints each figure and the median, with the load average.

The store: a fresh SQLite file holding what 100,000 alerts posted to `POST /api/v2/alerts`
leave behind, the alerts written through the real inbound path (`inbound.service.apply`, in
batches of 1,000 per transaction) and what routing, grouping and sending add mirrored in
bulk beside them (the real flush takes minutes for 100,000 groups): open firing alerts with
`endsAt` two days ahead, their `fired` timeline rows, their notifications (sent) and, by
default one group per alert whose first flush already happened (its reminder due after
`repeat_interval`, 24 h as for bench/ingest.py's Alertmanager). With `--no-grouping` (grouped
alerts do not escalate one by one) an escalation policy with a step a day ahead gives every
alert a pending step instead. The store is built `--age` minutes in the past, so nothing is
due while the process idles. It is built once (about a minute for 100,000 alerts) and reused from
`--cache` (keyed by N and options) for CACHE_FOR.

`--scrape S` also GETs /metrics every S seconds while idling (a Prometheus scraping Tocsin).

Run: `.venv/bin/python bench/idle.py [--alerts 100000] [--seconds 30]`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Row, func, insert, select
from sqlalchemy.orm import Session

from tocsin import store
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.config import GroupingConfig, TocsinConfig, parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.escalation.models import Escalation, EscalationStep
from tocsin.escalation.service import spec_of
from tocsin.inbound import service as inbound
from tocsin.inbound.alertmanager import parse_postable
from tocsin.noise.decide import Occurrence, group_key, group_labels, match_labels, summarise
from tocsin.noise.grouping import payload_for_group
from tocsin.noise.models import AlertGroup, AlertGroupEntry
from tocsin.outbox.models import Notification
from tocsin.outbox.payload import payload_for
from tocsin.pipeline import Pipeline

if __package__ in (None, ""):  # `python bench/x.py` puts bench/ on the path, not the root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import alert, cpu_seconds, free_port, wait_ready

BATCH = 1000
# Far enough ahead that a cached store (rebuilt after CACHE_FOR) has nothing due: no alert
# ends, no group's reminder (repeat_interval 24 h, Alertmanager's in bench/ingest.py), no
# escalation step (1 d).
ENDS_IN = timedelta(days=2)
CACHE_FOR = timedelta(hours=20)


def config_text(port: int, *, grouped: bool, escalate: bool) -> str:
    lines = [
        f"api: {{listen: '127.0.0.1:{port}'}}",
        # Nothing listens there: the store's notifications are already sent, none is due.
        "channels:\n  hook: {type: webhook, url: 'http://127.0.0.1:9/'}",
    ]
    if grouped:  # `probe` is unique per alert: one group each, as Alertmanager's `...`
        lines.append("grouping: {by: [alertname, probe], group_interval: 1h, repeat_interval: 24h}")
    if escalate and not grouped:
        lines.append(
            "escalation_policies:\n  page:\n    steps:\n"
            "      - {after: 0s, notify: [hook]}\n      - {after: 1d, notify: [hook]}"
        )
        lines.append("routes: {notify: [hook], escalation: page}")
    return "\n".join(lines) + "\n"


def build(path: Path, alerts_n: int, *, grouped: bool, escalate: bool, age: timedelta) -> None:
    """Write the store at `path` as it stands `age` after the alerts were posted."""
    engine = make_engine(f"sqlite:///{path}")
    store.upgrade(engine)
    factory = make_sessionmaker(engine)
    config, _ = parse(config_text(1, grouped=grouped, escalate=escalate), "idle.yaml", env={})
    # The alerts and their `fired` rows through the real inbound path, with a pipeline that
    # routes nowhere; what routing, grouping and sending would have added is written below
    # in bulk (the real path flushes a few hundred groups a second: minutes for 100,000).
    bare = Pipeline(parse("{}", "bare.yaml", env={})[0])
    at = datetime.now(UTC) - age
    began = time.perf_counter()
    for first in range(0, alerts_n, BATCH):
        batch = [alert(i, "idle", at) for i in range(first, min(first + BATCH, alerts_n))]
        for one in batch:
            one["endsAt"] = (at + ENDS_IN).isoformat()
        events = parse_postable(json.dumps(batch).encode(), at, "bench")
        with session_scope(factory) as session:
            inbound.apply(session, events, at, bare, "bench")
            ids = select(Alert.id).where(Alert.fingerprint.in_([e.fingerprint for e in events]))
            rows = session.execute(
                select(Alert, AlertEvent).join(AlertEvent, AlertEvent.alert_id == Alert.id)
                .where(Alert.id.in_(ids))
            ).all()  # fmt: skip
            if grouped:
                assert config.grouping is not None
                _flushed_groups(session, config.grouping, rows, at)
            else:
                _told_and_escalating(session, config, rows, at)
    with session_scope(factory) as session:
        groups = session.scalar(select(func.count()).select_from(AlertGroup))
        notes = session.scalar(select(func.count()).select_from(Notification))
        steps = session.scalar(select(func.count()).select_from(EscalationStep))
    engine.dispose()
    print(
        f"store built in {time.perf_counter() - began:.0f} s: {alerts_n:,} alerts, "
        f"{groups:,} groups, {notes:,} notifications, {steps:,} escalation steps",
        file=sys.stderr,
        flush=True,
    )


def _flushed_groups(
    session: Session,
    spec: GroupingConfig,
    rows: Sequence[Row[tuple[Alert, AlertEvent]]],
    at: datetime,
) -> None:
    """What `grouping.hold` and the first `flush_due_groups` leave: a group per alert,
    flushed once after `group_wait` with its reminder due after `repeat_interval`, its
    entry marked flushed and its notification sent."""
    flushed = at + spec.group_wait
    groups = []
    for alert_row, _ in rows:
        labels = group_labels(spec.by, match_labels(alert_row.labels, None, alert_row.severity))
        groups.append(
            {
                "group_key": group_key(labels, ["hook"]),
                "labels": labels,
                "channels": ["hook"],
                "created_at": at,
                "next_flush_at": None,
                "repeat_at": flushed + spec.repeat_interval,
                "last_flush_at": flushed,
                "flush_count": 1,
                "lead_alert_id": alert_row.id,
            }
        )
    group_rows = session.scalars(
        insert(AlertGroup).returning(AlertGroup, sort_by_parameter_order=True), groups
    ).all()
    entries = []
    for group, (alert_row, event) in zip(group_rows, rows, strict=True):
        entries.append(
            {
                "group_id": group.id,
                "alert_id": alert_row.id,
                "event_id": event.id,
                "kind": "fired",
                "at": at,
                "flush_no": 1,
            }
        )
        summary = summarise([_occurrence_of(alert_row, at)], 1, 0)
        session.add(
            _sent(alert_row.id, None, payload_for_group(group, 1, alert_row, summary), flushed)
        )
    session.execute(insert(AlertGroupEntry), entries)


def _told_and_escalating(
    session: Session,
    config: TocsinConfig,
    rows: Sequence[Row[tuple[Alert, AlertEvent]]],
    at: datetime,
) -> None:
    """What `Pipeline._fired` and the sender leave without grouping: the route's
    notification, sent, and with the policy its escalation, step 1 fired and step 2
    pending (due a day later)."""
    policy = config.escalation_policies.get("page")
    for alert_row, event in rows:
        session.add(_sent(alert_row.id, event.id, payload_for(alert_row, event), at))
    if policy is None:
        return
    spec = spec_of(policy)
    escalations = session.scalars(
        insert(Escalation).returning(Escalation, sort_by_parameter_order=True),
        [
            {"alert_id": a.id, "policy": "page", "spec": spec, "state": "active", "started_at": at}
            for a, _ in rows
        ],
    ).all()
    steps = []
    for escalation in escalations:
        for number, step in enumerate(policy.steps):
            due = at + step.after
            steps.append(
                {
                    "escalation_id": escalation.id,
                    "alert_id": escalation.alert_id,
                    "step": number,
                    "repeat": 0,
                    "due_at": due,
                    "state": "fired" if due <= at else "pending",
                    "fired_at": at if due <= at else None,
                }
            )
    session.execute(insert(EscalationStep), steps)


def _sent(
    alert_id: int, event_id: int | None, payload: dict[str, Any], at: datetime
) -> Notification:
    return Notification(
        id=str(uuid.uuid4()),
        alert_id=alert_id,
        event_id=event_id,
        channel="hook",
        target=None,
        payload=payload,
        state="sent",
        attempts=1,
        next_attempt_at=at,
        created_at=at,
        sent_at=at,
    )


def _occurrence_of(alert_row: Alert, at: datetime) -> Occurrence:
    return Occurrence(
        alert_row.id,
        "fired",
        at,
        alert_row.title,
        alert_row.message,
        alert_row.severity,
        alert_row.labels,
    )


def idle_once(db: Path, tmp: Path, args: argparse.Namespace) -> float:
    """% of one core `tocsin run` used over args.seconds on a copy of the store `db`."""
    work = tmp / "run.db"
    shutil.copyfile(db, work)
    port = free_port()
    cfg = tmp / "tocsin.yaml"
    cfg.write_text(config_text(port, grouped=args.grouping, escalate=args.escalate))
    env = {**os.environ, "TOCSIN_DATABASE_URL": f"sqlite:///{work}"}
    with open(tmp / "tocsin.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin.cli", "run", "-c", str(cfg)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz", {})
        time.sleep(args.settle)
        before, started = cpu_seconds(proc.pid), time.monotonic()
        with httpx.Client() as client:
            while (left := args.seconds - (time.monotonic() - started)) > 0:
                if args.scrape:
                    client.get(base + "/metrics", timeout=30).raise_for_status()
                time.sleep(min(left, args.scrape or left))
        used = cpu_seconds(proc.pid) - before
        return used / (time.monotonic() - started) * 100
    finally:
        proc.terminate()
        proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="idle time measured")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after start-up")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scrape", type=float, default=0.0, help="GET /metrics every S s")
    parser.add_argument("--age", type=float, default=10.0, help="minutes the store is old")
    parser.add_argument("--no-grouping", dest="grouping", action="store_false")
    parser.add_argument("--no-escalation", dest="escalate", action="store_false")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    name = f"tocsin-idle-{store.head()}-{args.alerts}-{int(args.grouping)}{int(args.escalate)}.db"
    db = args.cache / name
    if not db.exists() or time.time() - db.stat().st_mtime > CACHE_FOR.total_seconds():
        db.unlink(missing_ok=True)
        part = db.with_suffix(".part")
        part.unlink(missing_ok=True)
        build(
            part,
            args.alerts,
            grouped=args.grouping,
            escalate=args.escalate,
            age=timedelta(minutes=args.age),
        )
        part.rename(db)
    if args.runs < 1:
        return
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    figures = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            figures.append(idle_once(db, Path(tmp), args))
        print(f"run {run + 1}: idle CPU {figures[-1]:.2f}% of one core", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    what = f"{args.alerts:,} open alerts" + (", one group each" if args.grouping else "")
    scrape = f", /metrics every {args.scrape:g} s" if args.scrape else ""
    print(
        f"idle CPU over {args.seconds:g} s with {what}{scrape} (median of {args.runs}): "
        f"{statistics.median(figures):.2f}% of one core (target < 5%)"
    )


if __name__ == "__main__":
    main()
