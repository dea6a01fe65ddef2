"""Heartbeat pings handled per second by `tocsin run` (API and worker in one process).

What it measures: N pings (default 20,000) `GET /ping/{uuid}` spread over 100 configured
heartbeats, sent over 16 concurrent keep-alive connections on loopback (`bench.ingest.drive`),
on a fresh SQLite store; every ping is committed (the heartbeat row moved, a ping row
written, and now and then the heartbeat's pings beyond the newest 100 deleted) before its
answer. Prints pings/s per run and the median, and the server's CPU
time per ping (the rate it would reach with a core to itself: on a shared, loaded machine
the wall-clock rate mostly measures the other processes). healthchecks.io's open-source
handler does about 250/s; the target is at least 2,000/s.

Run: `.venv/bin/python bench/pings.py [--pings 20000] [--runs 3]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

if __package__ in (None, ""):  # `python bench/x.py` puts bench/ on the path, not the root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import cpu_seconds, drive, free_port, request_head, wait_ready

SENDERS, BEATS = 16, 100


async def ping_all(base: str, keys: list[str], count: int) -> float:
    heads = [request_head("GET", base, f"/ping/{key}", {}) for key in keys]
    return await drive(base, [(heads[i % len(heads)], b"") for i in range(count)], 200)


def run_once(count: int) -> tuple[float, float]:
    """(pings/s, the server's CPU seconds per ping)."""
    keys = [str(uuid.uuid4()) for _ in range(BEATS)]
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TOCSIN_DATABASE_URL": f"sqlite:///{Path(tmp) / 'tocsin.db'}"}
        beats = "".join(f"  - {{name: b{i}, uuid: '{k}', every: 1h}}\n" for i, k in enumerate(keys))
        config = Path(tmp) / "tocsin.yaml"
        config.write_text(f"api: {{listen: '127.0.0.1:{port}'}}\nheartbeats:\n{beats}")
        cli = [sys.executable, "-m", "tocsin.cli"]
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        proc = subprocess.Popen(
            [*cli, "run", "-c", str(config)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_ready(f"http://127.0.0.1:{port}/healthz", {})
            before = cpu_seconds(proc.pid)
            seconds = asyncio.run(ping_all(f"http://127.0.0.1:{port}", keys, count))
            cpu = cpu_seconds(proc.pid) - before
        finally:
            proc.terminate()
            proc.wait(30)
    return count / seconds, cpu / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pings", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    rates, costs = [], []
    for run in range(args.runs):
        rate, cost = run_once(args.pings)
        rates.append(rate)
        costs.append(cost)
        print(f"run {run + 1}: {rate:,.0f} pings/s, server CPU {cost * 1e6:,.0f} us/ping")
    print(f"median: {statistics.median(rates):,.0f} pings/s (target >= 2,000)")
    cost = statistics.median(costs)
    print(f"median server CPU: {cost * 1e6:,.0f} us/ping = {1 / cost:,.0f} pings/s per busy core")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
