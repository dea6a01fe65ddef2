"""How long the `tocsin` command takes to answer, as a user waits for it.

What it measures: the wall time of `tocsin --help` and of `tocsin alerts list` (100 alerts in
a fresh SQLite store, the starter tocsin.yaml of `tocsin init` in the folder, as a new user
has them), each run N times in a fresh process; prints the median and the fastest, and the
median CPU time (user + system) of the process, which a loaded machine disturbs less than
the wall time. Targets: 0.3 s for --help, 0.6 s for alerts list. amtool and gh answer in
about 0.1 s. `python -X importtime -m tocsin.cli alerts list` shows where the time goes.

Run: `.venv/bin/python bench/cli.py [--runs 9]`
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tocsin import store
from tocsin.alerts.models import Alert
from tocsin.db import make_engine, make_sessionmaker, session_scope

TARGETS = {"--help": 0.3, "alerts list": 0.6}


def tocsin_command() -> list[str]:
    """The installed `tocsin` script beside this Python, as a user runs it."""
    script = Path(sys.executable).parent / "tocsin"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tocsin.cli"]


def small_store(folder: Path, alerts: int) -> None:
    engine = make_engine(f"sqlite:///{folder / 'tocsin.db'}")
    store.upgrade(engine)
    start = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
    with session_scope(make_sessionmaker(engine)) as session:
        for i in range(alerts):
            at = start + timedelta(minutes=i)
            session.add(
                Alert(
                    fingerprint=f"{i:032x}",
                    origin="check",
                    check_name="error_rate",
                    labels={"service": "storefront", "n": str(i)},
                    severity=("CRITICAL", "HIGH", "WARNING", "INFO")[i % 4],
                    state=("firing", "acknowledged", "resolved")[i % 3],
                    title=f"Error rate above threshold {i}",
                    started_at=at,
                    updated_at=at,
                )
            )
    engine.dispose()


def timed(command: list[str], folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=9, help="runs of each command")
    parser.add_argument("--alerts", type=int, default=100, help="alerts in the store")
    args = parser.parse_args()
    tocsin = tocsin_command()
    folder = Path(tempfile.mkdtemp(prefix="tocsin-bench-cli-"))
    try:
        env = {**os.environ, "SHOP_DATABASE_URL": f"sqlite:///{folder / 'shop.db'}"}
        env.pop("TOCSIN_CONFIG", None)
        env.pop("TOCSIN_DATABASE_URL", None)
        subprocess.run([*tocsin, "init"], cwd=folder, env=env, capture_output=True, check=True)
        small_store(folder, args.alerts)
        load = os.getloadavg()[0]
        print(f"{' '.join(tocsin)}; {args.runs} runs each; load {load:.1f}")
        for name, extra in (("--help", ["--help"]), ("alerts list", ["alerts", "list"])):
            timed([*tocsin, *extra], folder, env)  # warm the OS's file cache
            runs = [timed([*tocsin, *extra], folder, env) for _ in range(args.runs)]
            walls = [w for w, _ in runs]
            print(
                f"tocsin {name}: median {statistics.median(walls):.3f} s, "
                f"fastest {min(walls):.3f} s, CPU median "
                f"{statistics.median(c for _, c in runs):.3f} s (target {TARGETS[name]} s)"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
