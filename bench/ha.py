"""The drill: three `tocsin run` on one PostgreSQL, killed and stopped while they page.

What it does: creates a throwaway PostgreSQL database, starts three `tocsin run
--workers-only` processes on it with the default configuration of leases (nothing tuned for
the drill), and a webhook receiver on loopback that records every request's Idempotency-Key
(answering after `--delay`, so deliveries are in flight when an instance dies). It fires
`--alerts` alerts over `--spread` seconds, each with an escalation policy of three steps 3,
6 and 9 s after it fires, all to the webhook. While they page it kills the busiest instance
(the one holding the most notifications being sent) with `kill -9`, `--kills` times,
restarting it each time; then stops one with SIGTERM; then waits until every step has fired
and every notification is recorded, and stops the rest.

Figures, one line each:
- `lost notifications`: rows never delivered (not `sent`, or a key the receiver never saw),
  escalation steps never fired, fired steps without a notification;
- `duplicate notifications`: one event notified under two keys, or one escalation step
  fired twice;
- `keys sent twice without a crash`: a key received twice when the instance holding it was
  not killed before the second receipt (receipts are stamped when they arrive);
- `redeliveries after a crash`: a key received again because its sender died mid-send (the
  channel's idempotency absorbs it); at most what the dead instance had in flight;
- `failover seconds p50` / `max`: from a `kill -9` until every notification the dead instance
  was sending is sent or leased by another instance;
- `graceful handover seconds max`: from SIGTERM until the instance holds no lease and is
  marked stopped;
- `escalation lateness p99 seconds`: fired_at − due_at of every step.

Targets: lost 0, duplicate 0, sent twice without a crash 0, failover max ≤ 20 s, graceful ≤ 1 s.
Not in this drill yet: grouping routes and a kill during the daily digest (the digest's
exactly-once is tested in tests/ha/test_two_workers.py).

Run: `.venv/bin/python bench/ha.py [--alerts 1000] [--spread 30] [--kills 3]
[--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]`. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

if __package__ in (None, ""):  # `python bench/x.py` puts bench/ on the path, not the root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import scratch_database
from tocsin import actions, store
from tocsin.clock import SystemClock
from tocsin.config import parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.escalation.models import EscalationStep
from tocsin.instances.models import WorkerHeartbeat
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline

TOCSIN = [sys.executable, "-m", "tocsin.cli"]


class Receiver(ThreadingHTTPServer):
    """A webhook receiver recording (monotonic time, Idempotency-Key, body) of each request."""

    daemon_threads = True

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.seen: list[tuple[float, str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        # The time a request arrived, not the time it was answered: a sender killed while
        # the receiver waits `delay` to answer has already delivered it.
        arrived = time.monotonic()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.server.delay)
        with self.server.lock:
            self.server.seen.append((arrived, self.headers["Idempotency-Key"], body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def database(admin_url: str) -> Iterator[str]:
    """A throwaway database beside `admin_url`'s, migrated, dropped at the end."""
    with scratch_database(admin_url) as url:
        engine = make_engine(url)
        store.upgrade(engine)
        engine.dispose()
        yield url


def config_text(url: str, port: int) -> str:
    return f"""
store: {{url: "{url}"}}
channels:
  hook: {{type: webhook, url: "http://127.0.0.1:{port}/"}}
escalation_policies:
  page:
    steps:
      - {{after: 3s, notify: [hook]}}
      - {{after: 6s, notify: [hook]}}
      - {{after: 9s, notify: [hook]}}
routes: {{notify: [], escalation: page}}
"""


class Drill:
    def __init__(self, url: str, config_path: Path, logs: Path) -> None:
        self.factory = make_sessionmaker(make_engine(url))
        self.config_path, self.logs = config_path, logs
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.kills: list[tuple[float, str, set[str]]] = []  # when, whom, what it was sending
        self.failovers: list[float] = []
        self.handovers: list[float] = []
        self.stops: list[float] = []  # when each SIGTERM was sent

    def start(self) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"run-{len(self.procs) + len(self.kills)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [*TOCSIN, "run", "--workers-only", "-c", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs[proc.pid] = proc
        return proc

    def instance_of(self, pid: int) -> str | None:
        with session_scope(self.factory) as s:
            return s.scalar(
                select(WorkerHeartbeat.id).where(
                    WorkerHeartbeat.pid == pid, WorkerHeartbeat.stopped_at.is_(None)
                )
            )

    def sending(self) -> dict[str, set[str]]:
        with session_scope(self.factory) as s:
            rows = s.execute(
                select(Notification.lease_owner, Notification.id).where(
                    Notification.state == "sending"
                )
            ).all()
        out: dict[str, set[str]] = defaultdict(set)
        for owner, nid in rows:
            out[str(owner)].add(nid)
        return out

    def wait(self, condition: Any, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit("the drill timed out")
            time.sleep(0.02)

    def kill_busiest(self) -> None:
        """kill -9 the instance sending the most, restart it, and time the takeover."""
        self.wait(lambda: any(self.sending().values()))
        held = self.sending()
        owner = max(held, key=lambda o: len(held[o]))
        pid = next(
            p
            for p, proc in self.procs.items()
            if proc.poll() is None and self.instance_of(p) == owner
        )
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        self.procs.pop(pid).wait()
        held[owner] |= self.sending().get(owner, set())  # what it claimed up to its death
        self.kills.append((killed_at, owner, held[owner]))
        self.start()

        def taken_over() -> bool:
            with session_scope(self.factory) as s:
                left = s.scalar(
                    select(Notification.id)
                    .where(
                        Notification.id.in_(held[owner]),
                        Notification.state == "sending",
                        Notification.lease_owner == owner,
                    )
                    .limit(1)
                )
            return left is None

        self.wait(taken_over)
        self.failovers.append(time.monotonic() - killed_at)

    def stop_one(self) -> None:
        pid, proc = next((p, pr) for p, pr in self.procs.items() if pr.poll() is None)
        owner = self.instance_of(pid)
        proc.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        self.stops.append(asked)

        def handed() -> bool:
            with session_scope(self.factory) as s:
                row = s.get(WorkerHeartbeat, owner)
                return (
                    row is not None
                    and row.stopped_at is not None
                    and not self.sending().get(str(owner))
                )

        self.wait(handed, 30)
        self.handovers.append(time.monotonic() - asked)
        proc.wait(30)
        self.procs.pop(pid)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            proc.wait(60)


def fire(url: str, config_text_: str, alerts: int, spread: float) -> None:
    config, _ = parse(config_text_, "ha.yaml", env={})
    pipeline, clock = Pipeline(config), SystemClock()
    factory = make_sessionmaker(make_engine(url))
    batch = max(1, alerts // max(1, int(spread * 4)))
    started = time.monotonic()
    for first in range(0, alerts, batch):
        new = [
            actions.alerts.NewAlert(
                fingerprint=f"drill-{i}",
                origin="drill",
                labels={"n": str(i)},
                severity="CRITICAL",
                title=f"drill alert {i}",
                message="",
            )
            for i in range(first, min(alerts, first + batch))
        ]
        with session_scope(factory) as session:
            actions.alerts.fire_many(session, pipeline, new, clock.now())
        time.sleep(max(0.0, started + spread * (first + batch) / alerts - time.monotonic()))


def figures(drill: Drill, seen: list[tuple[float, str, dict[str, Any]]]) -> dict[str, float]:
    with session_scope(drill.factory) as s:
        rows = s.execute(select(Notification.id, Notification.event_id, Notification.state)).all()
        steps = s.execute(
            select(
                EscalationStep.alert_id,
                EscalationStep.step,
                EscalationStep.repeat,
                EscalationStep.state,
                EscalationStep.due_at,
                EscalationStep.fired_at,
            )
        ).all()
    received = Counter(key for _, key, _ in seen)
    lost = sum(1 for nid, _, state in rows if state != "sent" or nid not in received)
    lost += sum(1 for *_, state, _, _ in steps if state != "fired")
    events_with_rows = Counter(event_id for _, event_id, _ in rows)
    step_events = {
        (b["alert_id"], b["escalation"]["step"]) for _, _, b in seen if "escalation" in b
    }
    fired = {(a, step + 1) for a, step, _, state, _, _ in steps if state == "fired"}
    lost += len(fired - step_events)
    keys_per_event: dict[int, set[str]] = defaultdict(set)
    for _, key, body in seen:
        keys_per_event[body["event_id"]].add(key)
    duplicates = sum(len(keys) - 1 for keys in keys_per_event.values())
    duplicates += sum(n - 1 for n in events_with_rows.values() if n > 1)
    duplicates += sum(
        n - 1 for n in Counter((a, st, r) for a, st, r, *_ in steps).values() if n > 1
    )
    redelivered = twice = 0
    for key, n in received.items():
        if n < 2:
            continue
        times = sorted(t for t, k, _ in seen if k == key)
        # Received again after the instance that held it died: its request may have left
        # before the kill and arrived after (the kernel still sends what the socket held).
        crashed = any(at <= times[-1] and key in held for at, _, held in drill.kills)
        if crashed:
            redelivered += n - 1
        else:
            twice += n - 1
            kills = [round(at - times[0], 3) for at, _, _ in drill.kills]
            print(
                f"sent twice: {key} at +{[round(t - times[0], 3) for t in times]} s, "
                f"kills at {kills} s, handovers at "
                f"{[round(at - times[0], 3) for at in drill.stops]} s",
                file=sys.stderr,
            )
    late = sorted((f - d).total_seconds() for *_, state, d, f in steps if state == "fired" and f)
    return {
        "lost notifications": lost,
        "duplicate notifications": duplicates,
        "keys sent twice without a crash": twice,
        "redeliveries after a crash": redelivered,
        "failover seconds p50": statistics.median(drill.failovers) if drill.failovers else 0.0,
        "failover seconds max": max(drill.failovers, default=0.0),
        "graceful handover seconds max": max(drill.handovers, default=0.0),
        "escalation lateness p99 seconds": late[min(len(late) - 1, int(0.99 * len(late)))]
        if late
        else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=30.0, help="seconds to fire them over")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.05, help="the receiver's answer time")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    receiver = Receiver(args.delay)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with database(args.url) as url, tempfile.TemporaryDirectory() as tmp:
        text_ = config_text(url, receiver.server_address[1])
        path = Path(tmp) / "tocsin.yaml"
        path.write_text(text_)
        drill = Drill(url, path, Path(tmp))
        try:
            for _ in range(3):
                drill.start()
            drill.wait(lambda: len([p for p in drill.procs if drill.instance_of(p)]) == 3, 120)
            firing = threading.Thread(target=fire, args=(url, text_, args.alerts, args.spread))
            firing.start()
            for _ in range(args.kills):
                drill.kill_busiest()
            firing.join()
            drill.stop_one()
            wanted = args.alerts * 3

            def finished() -> bool:
                with session_scope(drill.factory) as s:
                    fired = s.scalar(
                        text("SELECT count(*) FROM escalation_step WHERE state = 'fired'")
                    )
                    open_ = s.scalar(
                        text(
                            "SELECT count(*) FROM notification "
                            "WHERE state IN ('pending', 'sending')"
                        )
                    )
                return fired == wanted and open_ == 0

            drill.wait(finished, 300 + timedelta(seconds=args.spread).total_seconds())
        finally:
            drill.stop_all()
        found = figures(drill, receiver.seen)
    receiver.shutdown()
    for name, value in found.items():
        print(f"{name}: {value:.2f}" if isinstance(value, float) else f"{name}: {value}")
    missed = (
        found["lost notifications"]
        or found["duplicate notifications"]
        or found["keys sent twice without a crash"]
        or found["failover seconds max"] > 20
        or found["graceful handover seconds max"] > 1
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
