"""From an alert becoming firing to a stand-in service receiving its notification.

What it measures: for each of N alerts (1,000 by default), the wall time from the commit of
the transaction that fires the alert (the instant it is firing in the store) to the moment a
loopback HTTP stand-in receives the webhook it causes. One alert at a time, so the figure is
the latency of the path, not of a queue: the pipeline writes the outbox row in the firing
transaction, the commit rings the doorbell, the worker's sender thread wakes, claims the row
(one transaction), posts it, and records the outcome (another transaction). Also printed:
the time from just before the firing transaction, which includes writing the alert, its
timeline row and the outbox row.

Data: a migrated SQLite store in a temp dir (or `--url` for PostgreSQL), one webhook channel
with an HMAC secret, `routes: {notify: [hook]}`, no grouping wait, no escalation; a worker
running `run_forever` on the system clock in a thread, `poll_interval: 1s` (so a missed ring
would show as ~1 s). The stand-in is a ThreadingHTTPServer that answers 200 at once.

With `--worker-process` the worker is a separate `tocsin run --workers-only` process, as when
an `--api-only` instance takes the alert and another instance sends: on PostgreSQL the firing
transaction's `pg_notify` wakes that process's sender (`tocsin.outbox.listen`); on SQLite
nothing crosses processes and the figure is the poll interval's.

Targets (issue 4): p50 under 25 ms and p99 under 100 ms on SQLite.

Run: `.venv/bin/python bench/notify.py [--alerts 1000] [--url postgresql+psycopg://…]
[--worker-process]`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tocsin import actions, store
from tocsin.clock import SystemClock
from tocsin.config import parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.fingerprint import fingerprint
from tocsin.pipeline import Pipeline
from tocsin.worker.loop import Worker


class StandIn:
    """Records when each alert's notification arrives."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.events: dict[int, threading.Event] = {}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.perf_counter()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                alert_id = int(json.loads(body)["alert_id"])
                stand_in.arrived.setdefault(alert_id, now)
                stand_in.events.setdefault(alert_id, threading.Event()).set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, alert_id: int, timeout: float = 10.0) -> bool:
        return self.events.setdefault(alert_id, threading.Event()).wait(timeout)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--url", help="store URL (default: a SQLite file in a temp dir)")
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="send from a separate `tocsin run --workers-only` process",
    )
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="tocsin-bench-notify-"))
    url = args.url or f"sqlite:///{directory / 'store.db'}"
    engine = make_engine(url)
    store.upgrade(engine)
    factory = make_sessionmaker(engine)
    stand_in = StandIn()
    text = f"""
store: {{url: "{url}"}}
worker: {{poll_interval: 1s}}
channels:
  hook: {{type: webhook, url: "{stand_in.url}/hook", secret: bench-secret}}
routes: {{notify: [hook]}}
"""
    config, _ = parse(text, "bench.yaml", env={})
    clock = SystemClock()
    stop = threading.Event()
    if args.worker_process:
        (directory / "tocsin.yaml").write_text(text)
        log = directory / "run.log"
        with open(log, "w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tocsin.cli", "run", "--workers-only", "-v", "-c",
                 str(directory / "tocsin.yaml")],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        ready = "listening for outbox rows" if url.startswith("postgresql") else "started with"
        while ready not in log.read_text():
            time.sleep(0.05)
        pipeline = Pipeline(config)
    else:
        worker = Worker(config, factory, clock, threads=False)
        worker.start()
        loop = threading.Thread(target=worker.run_forever, args=(stop,))
        loop.start()
        pipeline = worker.pipeline
    committed: list[float] = []
    began: list[float] = []
    lost = 0
    try:
        for i in range(args.alerts):
            before = time.perf_counter()
            with session_scope(factory) as session:
                alert, _ = actions.alerts.fire(
                    session,
                    pipeline,
                    actions.alerts.NewAlert(
                        fingerprint=fingerprint(f"bench-{os.getpid()}-{i}", {}),
                        origin="event",
                        labels={"service": "bench", "n": str(i)},
                        severity="HIGH",
                        title=f"bench alert {i}",
                        message="",
                    ),
                    clock.now(),
                )
                alert_id = alert.id
            after = time.perf_counter()
            if not stand_in.wait(alert_id):
                lost += 1
                continue
            arrived = stand_in.arrived[alert_id]
            committed.append((arrived - after) * 1000)
            began.append((arrived - before) * 1000)
    finally:
        if args.worker_process:
            process.terminate()
            process.wait(30)
        else:
            stop.set()
            loop.join()
            worker.stop()
        stand_in.server.shutdown()
        engine.dispose()
    store_kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    where = "another process" if args.worker_process else "this process"
    print(
        f"store: {store_kind}; sender in {where}; alerts: {args.alerts}; "
        f"not received within 10 s: {lost}"
    )
    for label, values in (("commit → received", committed), ("fire → received", began)):
        print(
            f"{label}: p50 {statistics.median(values):.1f} ms, "
            f"p99 {percentile(values, 0.99):.1f} ms, max {max(values):.1f} ms"
        )
    print("targets (SQLite): p50 < 25 ms, p99 < 100 ms (commit → received)")


if __name__ == "__main__":
    main()
