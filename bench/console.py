"""How fast the console's pages answer with a large store behind them.

What it measures, with a migrated SQLite store in a temp dir (or `--url` a PostgreSQL
database, emptied first) holding `--alerts` alerts (default 100,000: 97% resolved, 3% open
— firing or acknowledged —, four severities, 20 services, labels on each), a signed-in
admin, and the app called in-process through Starlette's TestClient (the server's work:
session lookup, the query, rendering; no network):

- `list_open_ms` / `list_open_kb`: `GET /alerts`, the first screen (open alerts, 50 rows);
- `list_all_ms`: `GET /alerts?state=all` (the newest 50 of every alert);
- `list_label_ms`: `GET /alerts?state=all&label=service=svc-7&severity=CRITICAL`;
- `list_deep_ms`: a page deep in the list (`before` = an id 90% of the way down);
- `detail_ms` / `detail_kb`: `GET /alerts/ID` for an alert with 1,000 timeline events.

Each figure is the median over `--calls` requests (after one untimed request), per run; the
script prints every run and the median of the runs. Targets (issue 17): the first screen
under 200 ms and 200 KB, the detail under 200 ms.

Run: `.venv/bin/python bench/console.py [--runs 3] [--calls 30] [--alerts 100000] [--url URL]`
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from tocsin import store
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.console import sessions
from tocsin.db import Base, make_engine, make_sessionmaker, session_scope
from tocsin.web.app import create_app
from tocsin.web.console_core import COOKIE
from tocsin.web.deps import Settings

START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
SEVERITIES = ("CRITICAL", "HIGH", "WARNING", "INFO")
CONFIG = "public_url: http://testserver\nusers:\n  ana: {role: admin}\n"


def fill(factory: sessionmaker[Session], count: int) -> int:
    """`count` alerts, oldest first, and one more with 1,000 timeline events; its id."""
    batch: list[dict[str, Any]] = []
    with session_scope(factory) as session:
        for i in range(count):
            at = START - timedelta(seconds=30 * (count - i))
            state = "resolved" if i % 100 >= 3 else ("firing" if i % 2 else "acknowledged")
            batch.append(
                {
                    "fingerprint": f"{i:032x}",
                    "origin": "event",
                    "labels": {"service": f"svc-{i % 20}", "host": f"h{i % 300}", "env": "prod"},
                    "severity": SEVERITIES[i % 4],
                    "state": state,
                    "title": f"Error rate high on svc-{i % 20} ({i})",
                    "message": "5% of requests fail",
                    "started_at": at,
                    "updated_at": at,
                    "resolved_at": at + timedelta(minutes=5) if state == "resolved" else None,
                    "acknowledged_by": "bo" if state == "acknowledged" else None,
                }
            )
            if len(batch) == 10_000:
                session.execute(insert(Alert), batch)
                batch = []
        if batch:
            session.execute(insert(Alert), batch)
        detail = Alert(
            fingerprint="f" * 32,
            origin="event",
            labels={"service": "svc-1"},
            severity="HIGH",
            state="firing",
            title="A noisy alert with a long timeline",
            message="",
            started_at=START,
            updated_at=START,
        )
        session.add(detail)
        session.flush()
        events = [
            {
                "alert_id": detail.id,
                "at": START + timedelta(seconds=i),
                "kind": "severity" if i else "fired",
                "severity": SEVERITIES[i % 4],
                "actor": None,
                "note": f"value {i}",
            }
            for i in range(1000)
        ]
        session.execute(insert(AlertEvent), events)
        return detail.id


def timed(client: TestClient, path: str, calls: int) -> tuple[float, float]:
    """Median ms and the answer's size in KB."""
    first = client.get(path)
    assert first.status_code == 200, (path, first.status_code, first.text[:300])
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        answer = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200
    return statistics.median(samples), len(first.content) / 1024


def run_once(client: TestClient, calls: int, count: int, detail_id: int) -> dict[str, float]:
    out: dict[str, float] = {}
    out["list_open_ms"], out["list_open_kb"] = timed(client, "/alerts", calls)
    out["list_all_ms"], _ = timed(client, "/alerts?state=all", calls)
    label = "/alerts?state=all&label=service%3Dsvc-7&severity=CRITICAL"
    out["list_label_ms"], _ = timed(client, label, calls)
    out["list_deep_ms"], _ = timed(client, f"/alerts?state=all&before={count // 10}", calls)
    out["detail_ms"], out["detail_kb"] = timed(client, f"/alerts/{detail_id}", calls)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--url", help="a PostgreSQL database to use (emptied first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'store.db'}"
        engine = make_engine(url)
        store.upgrade(engine)
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        factory = make_sessionmaker(engine)
        began = time.perf_counter()
        detail_id = fill(factory, args.alerts)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        print(
            f"filled {args.alerts} alerts in {time.perf_counter() - began:.1f} s "
            f"({engine.dialect.name})"
        )
        config, _ = parse(CONFIG, "bench.yaml", env={})
        clock = VirtualClock(START)
        with session_scope(factory) as session:
            _, cookie = sessions.open_(session, "ana", None, timedelta(days=1), clock.now())
        results: list[dict[str, float]] = []
        with TestClient(create_app(Settings(config, factory, clock))) as client:
            client.cookies.set(COOKIE, cookie)
            for number in range(args.runs):
                figures = run_once(client, args.calls, args.alerts, detail_id)
                results.append(figures)
                print(f"run {number + 1}: " + "  ".join(f"{k}={v:.1f}" for k, v in figures.items()))
        medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
        for name, value in medians.items():
            print(f"{name} {value:.1f}")
        engine.dispose()


if __name__ == "__main__":
    main()
