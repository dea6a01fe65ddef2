"""Alerts ingested through `POST /api/v2/alerts`: Tocsin against Debian's Alertmanager.

What it measures, for both servers in the same run, with the same client (HTTP/1.1
keep-alive), the same alerts (7 labels, 3 annotations, about 570 bytes of JSON each) and the
same load (batches of 64, 16 concurrent senders):

- new: alerts/s accepted for N distinct alerts (default 100,000);
- resent: alerts/s for 1,000 alerts sent R times (default 100), Prometheus's every-cycle path,
  measured twice: right after the new alerts (while their notifications are delivered) and
  again once they are ("quiet"); then once more with every cycle moving each alert's
  `endsAt` a second later, as Prometheus does ("endsAt moving": Tocsin answers those too
  without a transaction each and writes the latest ends once a second, `inbound/ends.py`);
- notify p50/p99: from POSTing one new alert to its webhook notification reaching a loopback
  receiver (Alertmanager: `group_wait: 0s`, one group per alert; Tocsin: a webhook channel),
  measured first, with no backlog of notifications queued;
- drain: seconds from the first new alert's POST until every new alert's notification
  reached the receiver (at most `--drain-cap`), and notifications/s over that time;
- idle CPU: % of one core the server uses over 10 s with the N alerts open and nothing sent.

The load client is a lean keep-alive HTTP/1.1 client on asyncio streams (`Connection`), so
its own CPU takes as little as it can from the servers on a two-core machine.

Tocsin runs as `tocsin run` (API and worker in one process) on a fresh SQLite store, every
alert committed before the answer (a re-send that changes nothing is answered from the API's
memory of what the store holds, checked against the store's change log: `inbound/repeats.py`);
Alertmanager 0.25 keeps alerts in memory. The webhook receiver keeps connections alive.
Both listen on 127.0.0.1 only (`--cluster.listen-address=` turns Alertmanager's gossip off).
Each figure is printed for both with the Tocsin/Alertmanager ratio.

With `--store postgresql` Tocsin's store is a throwaway database on the PostgreSQL at `--pg`
(created and dropped by the run), and `--instances 3` runs three `tocsin run` on it, each on
its own port, the load client's connections spread over them in turn (as a load balancer
would); idle CPU is then the sum of the three.

Run: `.venv/bin/python bench/ingest.py [--alerts 100000] [--resends 100]
[--store postgresql [--instances 3] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

BATCH, SENDERS = 64, 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """A loopback webhook receiver noting when each alert's first notification arrived."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Discord, Slack and others do

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                at = time.perf_counter()
                for name in _alert_names(body):
                    outer.seen.setdefault(name, at)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _alert_names(body: bytes) -> list[str]:
    data = json.loads(body)
    if "alerts" in data:  # Alertmanager's webhook
        return [a["labels"].get("probe", "") for a in data["alerts"]]
    return [data.get("labels", {}).get("probe", "")]  # Tocsin's webhook payload


def alert(i: int, prefix: str, now: datetime, later: int = 0) -> dict[str, Any]:
    return {
        "labels": {
            "alertname": "HighRequestLatency",
            "severity": "warning",
            "job": "checkout-api",
            "instance": f"10.0.{i // 250 % 256}.{i % 250}:9100",
            "service": "checkout",
            "team": "payments",
            "probe": f"{prefix}{i}",
        },
        "annotations": {
            "summary": f"p99 latency above 500ms on instance {i}",
            "description": "The 99th percentile of request latency has been above 500ms for 5m.",
            "runbook_url": "https://runbooks.example.com/latency#high-request-latency",
        },
        "startsAt": now.isoformat().replace("+00:00", "Z"),
        "endsAt": (now + timedelta(hours=6, seconds=later)).isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=histogram_quantile",
    }


class Connection:
    """One keep-alive HTTP/1.1 connection on raw asyncio streams, a request at a time.

    The load client is kept lean on purpose: httpx's async client spends several times the
    CPU of the servers measured here per request, and on a shared two-core machine the
    client's CPU is taken from the server under test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base: str) -> Connection:
        host, port = base.removeprefix("http://").rsplit(":", 1)
        return cls(*await asyncio.open_connection(host, int(port)))

    async def request(self, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        """Send a request whose `head` ends before the blank line; (status, body)."""
        self.writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        status = int(answer[9:12])
        length = 0
        for line in answer.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line[15:])
        return status, await self.reader.readexactly(length) if length else b""

    def close(self) -> None:
        self.writer.close()


def request_head(method: str, base: str, path: str, headers: dict[str, str]) -> bytes:
    host = base.removeprefix("http://")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n").encode()


async def drive(bases: list[str], requests: list[tuple[bytes, bytes]], expect: int) -> float:
    """Send every (head, body) over SENDERS connections, spread over `bases` in turn; seconds
    taken. Stops at an answer other than `expect`."""
    queue = list(reversed(requests))
    connections = [await Connection.open(bases[i % len(bases)]) for i in range(SENDERS)]

    async def sender(connection: Connection) -> None:
        while queue:
            head, body = queue.pop()
            status, answer = await connection.request(head, body)
            if status != expect:
                raise SystemExit(f"{bases}: {status} {answer[:200]!r}")

    started = time.perf_counter()
    try:
        await asyncio.gather(*(sender(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    return time.perf_counter() - started


async def send(bases: list[str], headers: dict[str, str], batches: list[bytes]) -> float:
    head = request_head(
        "POST", bases[0], "/api/v2/alerts", {**headers, "Content-Type": "application/json"}
    )
    return await drive(bases, [(head, body) for body in batches], 200)


def batches_of(alerts: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(alerts[i : i + BATCH]).encode() for i in range(0, len(alerts), BATCH)]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(url: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


@contextmanager
def alertmanager(
    tmp: Path, hook: str, _args: argparse.Namespace
) -> Iterator[tuple[list[str], dict[str, str], list[int]]]:
    port = free_port()
    (tmp / "am.yml").write_text(
        json.dumps(
            {
                "route": {"receiver": "hook", "group_by": ["..."], "group_wait": "0s",
                          "group_interval": "1h", "repeat_interval": "24h"},
                "receivers": [{"name": "hook", "webhook_configs": [{"url": hook}]}],
            }
        )
    )  # fmt: skip
    proc = subprocess.Popen(
        ["prometheus-alertmanager", f"--config.file={tmp / 'am.yml'}",
         f"--storage.path={tmp / 'am'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/-/ready", {})
        yield [base], {}, [proc.pid]
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A throwaway PostgreSQL database beside `admin_url`'s, dropped at the end."""
    from sqlalchemy import create_engine, make_url, text

    name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def tocsin(
    tmp: Path, hook: str, args: argparse.Namespace
) -> Iterator[tuple[list[str], dict[str, str], list[int]]]:
    with scratch_database(args.pg) if args.store == "postgresql" else _sqlite(tmp) as store_url:
        env = {**os.environ, "TOCSIN_DATABASE_URL": store_url}
        tocsin_cli = [sys.executable, "-m", "tocsin.cli"]
        ports = [free_port() for _ in range(args.instances)]
        for i, port in enumerate(ports):
            (tmp / f"tocsin-{i}.yaml").write_text(
                f"api: {{listen: '127.0.0.1:{port}', rate_limit: 100000, rate_burst: 100000}}\n"
                f"channels:\n  hook: {{type: webhook, url: '{hook}'}}\n"
            )
        subprocess.run([*tocsin_cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        token = subprocess.run(
            [*tocsin_cli, "token", "create", "bench", "--scope", "ingest,read",
             "-c", str(tmp / "tocsin-0.yaml")],
            env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        procs = [
            subprocess.Popen(
                [*tocsin_cli, "run", "-c", str(tmp / f"tocsin-{i}.yaml")],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(tmp / f"tocsin-{i}.log", "w"),  # noqa: SIM115
            )
            for i in range(args.instances)
        ]
        try:
            headers = {"Authorization": f"Bearer {token}"}
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            for base in bases:
                wait_ready(base + "/healthz", {})
            yield bases, headers, [proc.pid for proc in procs]
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(60)


@contextmanager
def _sqlite(tmp: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp / 'tocsin.db'}"


def drain(receiver: Receiver, wanted: int, started: float, cap: float) -> float:
    """Seconds from the first bulk POST until `wanted` alerts' notifications arrived (so
    that idle is idle), giving up after `cap` seconds or 30 s without an arrival."""
    seen, last_change = -1, time.perf_counter()
    while (
        len(receiver.seen) < wanted
        and time.perf_counter() - last_change < 30
        and time.perf_counter() - started < cap
    ):
        if len(receiver.seen) != seen:
            seen, last_change = len(receiver.seen), time.perf_counter()
        time.sleep(0.2)
    if len(receiver.seen) < wanted:
        print(f"  only {len(receiver.seen):,} of {wanted:,} notifications arrived", flush=True)
    return time.perf_counter() - started


def measure(name: str, server: Any, args: argparse.Namespace) -> dict[str, float]:
    receiver = Receiver()
    with (
        tempfile.TemporaryDirectory() as tmp,
        server(Path(tmp), receiver.url, args) as (bases, headers, pids),
    ):
        url = bases[0] + "/api/v2/alerts"
        now = datetime.now(UTC)
        figures: dict[str, float] = {}
        # Notify first, with nothing queued: a probe behind a backlog of the bulk alerts'
        # notifications would measure the backlog, not the path from POST to notification.
        delays = probe_delays(receiver, url, headers, now, args.probes)
        figures["notify p50 ms"] = statistics.median(delays)
        figures["notify p99 ms"] = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        fresh = batches_of([alert(i, "n", now) for i in range(args.alerts)])
        started = time.perf_counter()
        figures["new alerts/s"] = args.alerts / asyncio.run(send(bases, headers, fresh))
        same = batches_of([alert(i, "n", now) for i in range(1000)])
        figures["re-sent alerts/s"] = (
            1000 * args.resends / asyncio.run(send(bases, headers, same * args.resends))
        )
        figures["drain s"] = drain(receiver, args.probes + args.alerts, started, args.drain_cap)
        figures["notifications/s"] = (len(receiver.seen) - args.probes) / figures["drain s"]
        # The dedup path again, with no notifications being delivered beside it: above, the
        # re-sends share the server with the bulk alerts' notifications going out.
        figures["re-sent, quiet, /s"] = (
            1000 * args.resends / asyncio.run(send(bases, headers, same * args.resends))
        )
        # Prometheus's own re-sends: each cycle moves every alert's endsAt later.
        moving = [
            batch
            for cycle in range(1, args.resends + 1)
            for batch in batches_of([alert(i, "n", now, later=cycle) for i in range(1000)])
        ]
        figures["re-sent, endsAt moving, /s"] = (
            1000 * args.resends / asyncio.run(send(bases, headers, moving))
        )
        time.sleep(5)
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(args.idle)
        idle = sum(cpu_seconds(pid) for pid in pids) - before
        figures["idle CPU % of a core"] = idle / args.idle * 100
        if len(receiver.seen) < args.alerts + args.probes:
            print(f"  {name}: idle CPU measured while notifications were still due", flush=True)
    for key, value in figures.items():
        print(f"{name:12} {key:22} {value:12,.1f}", flush=True)
    return figures


def probe_delays(
    receiver: Receiver, url: str, headers: dict[str, str], now: datetime, probes: int
) -> list[float]:
    """Milliseconds from POSTing each probe alert to its notification arriving, sorted."""
    delays = []
    with httpx.Client(headers=headers) as client:
        for i in range(probes):
            body = json.dumps([alert(i, "probe", now)]).encode()
            started = time.perf_counter()
            client.post(url, content=body, headers={"Content-Type": "application/json"})
            while f"probe{i}" not in receiver.seen and time.perf_counter() - started < 10:
                time.sleep(0.0005)
            delays.append((receiver.seen.get(f"probe{i}", time.perf_counter()) - started) * 1000)
            time.sleep(0.05)
    return sorted(delays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--resends", type=int, default=100)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--drain-cap", type=float, default=900.0, help="seconds, at most")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--instances", type=int, default=1, help="tocsin run processes")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.instances > 1 and args.store != "postgresql":
        raise SystemExit("several instances need --store postgresql")
    if shutil.which("prometheus-alertmanager") is None:
        raise SystemExit("prometheus-alertmanager is not installed (apt-get install it)")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"tocsin: {args.instances} instance(s) on {args.store}")
    am = measure("alertmanager", alertmanager, args)
    ours = measure("tocsin", tocsin, args)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for key in am:
        ratio = ours[key] / am[key] if am[key] else float("inf")
        both = f"alertmanager {am[key]:10,.1f}  tocsin {ours[key]:10,.1f}"
        print(f"{key:22} {both}  tocsin/am {ratio:6.2f}")


if __name__ == "__main__":
    main()
