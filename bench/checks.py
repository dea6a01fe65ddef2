"""Checks evaluated per second by one worker on a SQLite (or PostgreSQL) store.

What it measures: the wall time a worker takes to evaluate 1,000 checks that are all due at
once, from the first claim to the last commit. The clock is a `VirtualClock` that never moves,
so `Worker.run_due_checks()` is called until it returns 0 and every check runs exactly once.
Each run uses a fresh store (a copy of one migrated SQLite file in a temp dir, or the
PostgreSQL database truncated) and a fresh worker; only the evaluation loop is timed (not
migrating, parsing or `worker.start()`).

Data: 1,000 checks `c0000`…`c0999`, `schedule: {every: 1m}`, each `SELECT 1 AS value` on one
SQLite source file with the condition `">= 10"` HIGH, so no alert ever fires; one console
channel. Every evaluation still claims its slot, has its open alerts and pending series read,
queries the source, writes an evaluation row and a sample, and advances its schedule; the
worker does the store's part for a claimed batch (`concurrency` x 8 checks) at a time.

Two modes: `threads=False` (checks run one after another on one core) and `threads=True`
(the worker's pool, `concurrency: 4`). Each prints every run and the median.

Figures: per run, seconds and evaluations/s; per mode, the median evaluations/s, ms per
evaluation (wall), CPU ms per evaluation (the whole process, all threads), and the
per-evaluation overhead: ms per evaluation minus the source query alone (`source_query_ms`,
timed on its own through the same `SqlSource`). The 1-minute load average before and after is
printed too: the machine may be shared, and other work slows every figure. A run that does not
record exactly one `ok` evaluation per check stops the script with a non-zero exit.

With `--url postgresql+psycopg://…` the store is that PostgreSQL database instead (it is
migrated, and every table is truncated before each run: give it a scratch database, never a
real one); the source stays the SQLite file, so the figure is still Tocsin's own overhead.

Target: at least 1,000 evaluations/s on one core (`threads=False`).

Run: `.venv/bin/python bench/checks.py [--runs 5] [--checks 1000] [--url URL]`
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from tocsin import store
from tocsin.checks.models import Evaluation
from tocsin.checks.sources.sql import SqlSource
from tocsin.clock import VirtualClock
from tocsin.config import SqlSourceConfig, TocsinConfig, parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.models import Base
from tocsin.worker.loop import Worker

START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
QUERY = "SELECT 1 AS value"
CONCURRENCY = 4  # worker.concurrency: the thread pool, and a claim takes 8x as many slots


def config_text(source_path: Path, checks: int, concurrency: int) -> str:
    lines = [
        f"worker: {{concurrency: {concurrency}}}",
        "sources:",
        f'  src: {{type: sql, url: "sqlite:///{source_path}"}}',
        "channels:",
        "  console: {type: console}",
        "checks:",
    ]
    for i in range(checks):
        lines += [
            f"  - name: c{i:04d}",
            "    source: src",
            "    schedule: {every: 1m}",
            f"    query: {QUERY}",
            '    conditions: [{when: ">= 10", severity: HIGH}]',
        ]
    return "\n".join(lines) + "\n"


def make_template(directory: Path) -> Path:
    """One migrated store, its WAL folded in, so a run starts from a plain file copy."""
    path = directory / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    store.upgrade(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def make_source(directory: Path) -> Path:
    path = directory / "source.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS placeholder (x)")
    return path


def fresh_store(directory: Path, template: Path | None, url: str | None, name: str) -> str:
    """A store with no rows: a copy of the SQLite template, or the PostgreSQL one truncated."""
    if url is None:
        assert template is not None
        path = directory / f"{name}.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    engine = make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


def one_run(
    store_url: str, config: TocsinConfig, run: int, threads: bool
) -> tuple[float, float, int]:
    """Evaluate every due check once on a fresh store; return (seconds, CPU seconds of the
    whole process, evaluations)."""
    engine = make_engine(store_url)
    factory = make_sessionmaker(engine)
    clock = VirtualClock(START)
    worker = Worker(
        config, factory, clock, worker_id="bench", console_write=lambda _: None, threads=threads
    )
    worker.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    claimed = 0
    while True:
        done = worker.run_due_checks()
        if not done:
            break
        claimed += done
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    worker.stop()
    with session_scope(factory) as session:
        recorded = session.scalar(select(func.count()).select_from(Evaluation)) or 0
        ok = (
            session.scalar(
                select(func.count()).select_from(Evaluation).where(Evaluation.status == "ok")
            )
            or 0
        )
    engine.dispose()
    if claimed != len(config.checks) or recorded != claimed or ok != recorded:
        raise SystemExit(
            f"run {run}: claimed {claimed}, recorded {recorded}, ok {ok}; "
            f"expected {len(config.checks)} of each"
        )
    return elapsed, cpu, recorded


def source_query_ms(source_path: Path, repeat: int) -> float:
    """The source query alone, through the same SqlSource the worker uses."""
    source = SqlSource(SqlSourceConfig(type="sql", url=f"sqlite:///{source_path}"))
    source.fetch(QUERY, {})
    started = time.perf_counter()
    for _ in range(repeat):
        source.fetch(QUERY, {})
    elapsed = time.perf_counter() - started
    source.close()
    return elapsed / repeat * 1000


def bench_mode(
    directory: Path,
    template: Path | None,
    url: str | None,
    config: TocsinConfig,
    runs: int,
    threads: bool,
    query_ms: float,
) -> None:
    label = "threads" if threads else "one_core"
    rates, cpu_ms = [], []
    for run in range(1, runs + 1):
        store_url = fresh_store(directory, template, url, f"store-{label}{run}")
        elapsed, cpu, evaluations = one_run(store_url, config, run, threads)
        if url is None:
            Path(make_url(store_url).database or "").unlink()
        rates.append(evaluations / elapsed)
        cpu_ms.append(cpu / evaluations * 1000)
        print(f"{label}.run{run}.seconds: {elapsed:.3f} s")
        print(f"{label}.run{run}.evaluations_per_s: {rates[-1]:.0f} evaluations/s", flush=True)
    median = statistics.median(rates)
    per_eval = 1000 / median
    print(f"{label}.median.evaluations_per_s: {median:.0f} evaluations/s")
    print(f"{label}.median.ms_per_evaluation: {per_eval:.3f} ms")
    print(f"{label}.median.cpu_ms_per_evaluation: {statistics.median(cpu_ms):.3f} ms")
    print(f"{label}.median.overhead_ms_per_evaluation: {per_eval - query_ms:.3f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="runs per mode (default 5)")
    parser.add_argument("--checks", type=int, default=1000, help="checks due at once (1000)")
    parser.add_argument(
        "--url", help="a scratch PostgreSQL database as the store (default: SQLite files)"
    )
    parser.add_argument(
        "--mode", choices=["both", "one_core", "threads"], default="both", help="modes to run"
    )
    args = parser.parse_args()
    # Other work on the machine slows every figure; the load average says how busy it was.
    print(f"load_average_1m: {os.getloadavg()[0]:.2f} processes")
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        directory = Path(tmp)
        if args.url is None:
            template: Path | None = make_template(directory)
        else:
            template = None
            engine = make_engine(args.url)
            store.upgrade(engine)
            engine.dispose()
        print(f"store: {'postgresql' if args.url else 'sqlite'}")
        source_path = make_source(directory)
        config, _ = parse(config_text(source_path, args.checks, CONCURRENCY), "bench.yaml", env={})
        print(f"checks: {args.checks} checks")
        print(f"runs: {args.runs} runs")
        print(f"claim_batch: {CONCURRENCY * 8} checks")
        query_ms = source_query_ms(source_path, 2000)
        print(f"source_query_ms: {query_ms:.3f} ms", flush=True)
        if args.mode in ("both", "one_core"):
            bench_mode(directory, template, args.url, config, args.runs, False, query_ms)
        if args.mode in ("both", "threads"):
            print(f"threads.concurrency: {CONCURRENCY} threads")
            bench_mode(directory, template, args.url, config, args.runs, True, query_ms)
    print(f"load_average_1m_after: {os.getloadavg()[0]:.2f} processes")


if __name__ == "__main__":
    main()
