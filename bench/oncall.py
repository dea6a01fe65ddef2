"""How long it takes to find who is on call, the cost an escalation step pays when it fires.

What it measures, on the shipped example (`tocsin/examples/oncall.yaml`: five schedules, one
with a restricted layer over a weekly rotation), with a migrated SQLite store in a temp dir:

- `resolve_ms`: `oncall.service.resolve_targets(session, config, "schedule:engineer", at)`,
  one session per call, at instants spread over a year, with 200 overrides on the schedule
  (the store read and the rotation both counted);
- `resolve_in_session_ms`: the same inside one open session, as an escalation step that
  resolves its targets in the transaction it already holds;
- `pure_ms`: `rotation.on_call` for the same instants without a store;
- `list_90d_ms`: the engineer schedule's shifts over 90 days (what `tocsin oncall ical` does).

Each figure is the median over `--calls` calls (after one untimed call), per run; the script
prints every run and the median of the runs. Target: resolving a target well under 10 ms, so
a step firing for hundreds of alerts at once spends its time sending, not deciding.

Run: `.venv/bin/python bench/oncall.py [--runs 3] [--calls 300]`
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from tocsin import store
from tocsin.config import parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.oncall import rotation, service

START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)


def timed_median(calls: int, action: object) -> float:
    assert callable(action)
    action(0)
    samples = []
    for i in range(calls):
        began = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def run(calls: int, folder: Path) -> dict[str, float]:
    text = resources.files("tocsin.examples").joinpath("oncall.yaml").read_text("utf-8")
    config, _ = parse(text, "oncall.yaml", env={})
    engine = make_engine(f"sqlite:///{folder / 'store.db'}")
    store.upgrade(engine)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        for i in range(200):
            begin = START + timedelta(hours=41 * i)
            service.create_override(
                session,
                config,
                schedule="engineer",
                user="erin",
                start=begin,
                end=begin + timedelta(hours=4),
                by="bench",
                now=START,
            )
    instants = [START + timedelta(minutes=1753 * i) for i in range(calls)]
    spec = config.schedules["engineer"]

    def resolve(i: int) -> None:
        with session_scope(factory) as session:
            service.resolve_targets(session, config, "schedule:engineer", instants[i])

    shared = factory()

    def resolve_shared(i: int) -> None:
        service.resolve_targets(shared, config, "schedule:engineer", instants[i])

    def pure(i: int) -> None:
        rotation.on_call(spec, [], instants[i])

    def listing(i: int) -> None:
        with session_scope(factory) as session:
            service.shifts(session, config, "engineer", START, START + timedelta(days=90))

    figures = {"resolve_ms": timed_median(calls, resolve)}
    # SQLite's write lock is taken at BEGIN: end the shared transaction before the others.
    figures["resolve_in_session_ms"] = timed_median(calls, resolve_shared)
    shared.rollback()
    figures |= {
        "pure_ms": timed_median(calls, pure),
        "list_90d_ms": timed_median(max(calls // 10, 5), listing),
    }
    shared.close()
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    results = []
    for number in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            figures = run(args.calls, Path(folder))
        results.append(figures)
        print(f"run {number}: " + "  ".join(f"{k}={v:.3f}" for k, v in figures.items()))
    for key in results[0]:
        print(f"median {key}: {statistics.median(r[key] for r in results):.3f}")


if __name__ == "__main__":
    main()
