"""The status page under load: `/status` and `summary.json` at 200 requests/s while an update
is committed every second, served by `tocsin run` on a fresh SQLite store.

What it measures: for `--seconds` (default 20), requests are sent open-loop at `--rate`
(default 200/s, alternating `/status` and `/status/api/v2/summary.json`, each on its own
schedule so a slow answer does not slow the senders); the latency of each, from send to the
whole answer read. Meanwhile, once a second, the bench process commits an update to the store
(an alert of a component's service opened or resolved through `tocsin.alerts.service`) and
polls `summary.json` every 20 ms until the component's status shows it: the delay from commit
to visible. The store holds 10 components and 2,000 resolved alerts spread over 90 days, so
every `/status` shows 90 days of uptime: the closed days from the cache the worker's hourly
`status-uptime` job fills as `tocsin run` starts (the bench waits for it), today from the store.

Figures: p50/p99/max latency per path, requests answered, errors, the commit-to-visible delay
(p50 and max), the same for an incident update posted once a second on a public incident
(commit to its body first in `incidents[].incident_updates`), the server's CPU per request.
Targets: p99 page latency < 50 ms, updates visible within 5 s. The 1-minute load average is
printed: the machine may be shared.

`--quick N`: instead of the load, N requests of each path one after another (no other
traffic), and their medians: the page's own cost, for a shared machine.

Run: `.venv/bin/python bench/status.py [--seconds 20] [--rate 200] [--quick N]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # `python bench/x.py` puts bench/ on the path, not the root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.ingest import cpu_seconds, free_port, wait_ready
from tocsin import actions
from tocsin.alerts import service as alerts
from tocsin.alerts.service import NewAlert
from tocsin.config import TocsinConfig, parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.incidents.service import NewIncident, NewUpdate
from tocsin.pipeline import Pipeline

COMPONENTS = 10
PATHS = ("/status", "/status/api/v2/summary.json")
GIVE_UP = 60.0  # seconds an update may take to show before it is counted at that


def config_text(port: int) -> str:
    parts = "".join(
        f"    - {{name: Component {i}, group: G{i % 3}, services: [svc{i}]}}\n"
        for i in range(COMPONENTS)
    )
    return f"api: {{listen: '127.0.0.1:{port}'}}\nstatus:\n  title: Bench\n  components:\n{parts}"


def seed(url: str) -> None:
    """2,000 resolved alerts over the last 90 days, spread over the components' services."""
    factory = make_sessionmaker(make_engine(url))
    now = datetime.now(UTC)
    rng = random.Random(7)
    with session_scope(factory) as session:
        for i in range(2000):
            start = now - timedelta(days=rng.uniform(0, 89), minutes=30)
            alert, _ = alerts.fire(session, new_alert(f"seed{i}", rng.randrange(COMPONENTS)), start)
            alerts.resolve(
                session, alert.id, "bench", start + timedelta(minutes=rng.randint(1, 60))
            )


def new_alert(key: str, component: int) -> NewAlert:
    return NewAlert(
        fingerprint=key, origin="event", labels={"service": f"svc{component}"},
        severity="CRITICAL", title=key, message="",
    )  # fmt: skip


async def load(base: str, seconds: float, rate: float) -> dict[str, list[float]]:
    """Open-loop requests; latencies in seconds per path (an error counts as None)."""
    out: dict[str, list[float]] = {p: [] for p in PATHS}
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one(path: str) -> None:
            nonlocal errors
            began = time.perf_counter()
            try:
                answer = await client.get(path)
                answer.raise_for_status()
            except httpx.HTTPError:
                errors += 1
                return
            out[path].append(time.perf_counter() - began)

        tasks = []
        start = time.perf_counter()
        for n in range(int(seconds * rate)):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(PATHS[n % 2])))
        await asyncio.gather(*tasks)
    out["errors"] = [float(errors)]
    return out


async def updates(base: str, url: str, seconds: float) -> list[float]:
    """Once a second, open or resolve an alert and time until summary.json shows it."""
    factory = make_sessionmaker(make_engine(url))
    delays, open_ids = [], {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for n in range(int(seconds)):
            tick = time.perf_counter()
            component = n % COMPONENTS
            with session_scope(factory) as session:
                now = datetime.now(UTC)
                if component in open_ids:
                    alerts.resolve(session, open_ids.pop(component), "bench", now)
                else:
                    alert, _ = alerts.fire(session, new_alert(f"u{n}", component), now)
                    open_ids[component] = alert.id
            committed = time.perf_counter()
            want = "major_outage" if component in open_ids else "operational"
            while time.perf_counter() - committed < GIVE_UP:
                try:
                    summary = (await client.get("/status/api/v2/summary.json")).json()
                except httpx.HTTPError:
                    continue
                shown = {c["name"]: c["status"] for c in summary["components"]}
                if shown[f"Component {component}"] == want:
                    break
                await asyncio.sleep(0.02)
            delays.append(time.perf_counter() - committed)
            await asyncio.sleep(max(0.0, 1 - (time.perf_counter() - tick)))
    return delays


def wait_cached(url: str, limit: float = 30.0) -> float:
    """Seconds until the worker has cached the closed days (the page is slower before)."""
    from sqlalchemy import func, select

    from tocsin.statuspage.models import StatusUptimeDay

    factory = make_sessionmaker(make_engine(url))
    began = time.perf_counter()
    while time.perf_counter() - began < limit:
        with session_scope(factory) as session:
            if session.scalar(select(func.count()).select_from(StatusUptimeDay)):
                break
        time.sleep(0.1)
    return time.perf_counter() - began


def quick(base: str, count: int) -> None:
    """`count` requests of each path in turn; the median and the slowest of each."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in PATHS:
            times = []
            for _ in range(count):
                began = time.perf_counter()
                client.get(path).raise_for_status()
                times.append(time.perf_counter() - began)
            print(
                f"{path}: median {statistics.median(times) * 1000:.1f} ms, "
                f"max {max(times) * 1000:.1f} ms over {count} requests one at a time"
            )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def incident_updates(
    base: str, url: str, config: TocsinConfig, seconds: float
) -> list[float]:
    """Once a second, post an update on a public incident (through the door, as the CLI and
    the API do) and time until summary.json lists it first among the incident's updates."""
    factory = make_sessionmaker(make_engine(url))
    pipeline = Pipeline(config)
    new = NewIncident("Bench incident", "SEV-3", services=["svc0"], public=True)
    with session_scope(factory) as session:
        incident = actions.incidents.declare(session, pipeline, new, "bench", datetime.now(UTC)).id
    delays = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for n in range(int(seconds)):
            tick = time.perf_counter()
            message = f"bench update {n}"
            with session_scope(factory) as session:
                update = NewUpdate(message)
                now = datetime.now(UTC)
                actions.incidents.post_update(session, pipeline, incident, update, "bench", now)
            committed = time.perf_counter()
            while time.perf_counter() - committed < GIVE_UP:
                try:
                    summary = (await client.get("/status/api/v2/summary.json")).json()
                except httpx.HTTPError:
                    continue
                firsts = [i["incident_updates"][0]["body"] for i in summary["incidents"]]
                if message in firsts:
                    break
                await asyncio.sleep(0.02)
            delays.append(time.perf_counter() - committed)
            await asyncio.sleep(max(0.0, 1 - (time.perf_counter() - tick)))
    return delays


async def measure(
    base: str, url: str, config: TocsinConfig, seconds: float, rate: float
) -> tuple[dict[str, list[float]], list[float], list[float]]:
    return await asyncio.gather(
        load(base, seconds, rate),
        updates(base, url, seconds),
        incident_updates(base, url, config, seconds),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--quick", type=int, default=0, help="N sequential requests per path")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'tocsin.db'}"
        env = {**os.environ, "TOCSIN_DATABASE_URL": url}
        config = Path(tmp) / "tocsin.yaml"
        config.write_text(config_text(port))
        cli = [sys.executable, "-m", "tocsin.cli"]
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        seed(url)
        proc = subprocess.Popen(
            [*cli, "run", "-c", str(config)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/healthz", {})
            print(f"uptime cache filled after {wait_cached(url):.1f} s")
            if args.quick:
                quick(base, args.quick)
                return
            before = cpu_seconds(proc.pid)
            parsed, _ = parse(config.read_text(), str(config), env={})
            measured = asyncio.run(measure(base, url, parsed, args.seconds, args.rate))
            latencies, delays, posted = measured
            cpu = cpu_seconds(proc.pid) - before
        finally:
            proc.terminate()
            proc.wait(30)
    answered = 0
    for path in PATHS:
        got = latencies[path] or [float("nan")]
        answered += len(got)
        print(
            f"{path}: {len(got)} answered, p50 {pct(got, 0.5):.1f} ms, "
            f"p99 {pct(got, 0.99):.1f} ms, max {max(got) * 1000:.1f} ms"
        )
    print(f"errors: {int(latencies['errors'][0])}")
    print(
        f"commit to visible in summary.json: p50 {statistics.median(delays) * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms over {len(delays)} updates (target <= 5 s)"
    )
    print(
        f"incident update to visible in summary.json: p50 "
        f"{statistics.median(posted) * 1000:.0f} ms, max {max(posted) * 1000:.0f} ms over "
        f"{len(posted)} updates (target <= 5 s)"
    )
    print(f"server CPU: {cpu / max(answered, 1) * 1000:.2f} ms/request")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
