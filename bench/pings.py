"""Heartbeat pings handled per second by `tocsin run` (API and worker in one process).

What it measures: N pings (default 20,000) `GET /ping/{uuid}` spread over 100 configured
heartbeats, sent by 16 concurrent keep-alive httpx clients on loopback, on a fresh SQLite
store; every ping is committed (the heartbeat row moved, a ping row written) before its
answer. Prints pings/s per run and the median. healthchecks.io's open-source handler does
about 250/s; the target is at least 2,000/s.

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
import time
import uuid
from pathlib import Path

import httpx

from bench.ingest import free_port, wait_ready

SENDERS, BEATS = 16, 100


async def ping_all(base: str, keys: list[str], count: int) -> float:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(f"{base}/ping/{keys[i % len(keys)]}")
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def sender() -> None:
            while not queue.empty():
                answer = await client.get(queue.get_nowait())
                if answer.status_code != 200:
                    raise SystemExit(f"ping answered {answer.status_code}: {answer.text}")

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(SENDERS)))
        return time.perf_counter() - started


def run_once(count: int) -> float:
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
            seconds = asyncio.run(ping_all(f"http://127.0.0.1:{port}", keys, count))
        finally:
            proc.terminate()
            proc.wait(30)
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pings", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    rates = []
    for run in range(args.runs):
        rates.append(run_once(args.pings))
        print(f"run {run + 1}: {rates[-1]:,.0f} pings/s", flush=True)
    print(f"median: {statistics.median(rates):,.0f} pings/s (target >= 2,000)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
