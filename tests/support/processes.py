"""Run `tocsin` as a real process for the crash tests: launch (logs kept per launch), wait for a
condition in the store, count rows."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.db import session_scope
from tocsin.instances.models import WorkerHeartbeat

TOCSIN = [sys.executable, "-m", "tocsin.cli"]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """`start(config)` launches `tocsin run -c config`; every launch is killed at teardown."""
    procs: list[subprocess.Popen[str]] = []

    def launch(config: Path) -> subprocess.Popen[str]:
        out = open(tmp_path / f"run-{len(procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [*TOCSIN, "run", "-c", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        procs.append(proc)
        return proc

    yield launch
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for(condition: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def count(factory: sessionmaker[Session], model: type, *where: object) -> int:
    with session_scope(factory) as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def kill_9_repeatedly(
    start: Callable[[Path], subprocess.Popen[str]],
    config: Path,
    factory: sessionmaker[Session],
    *,
    kills: int,
    seed: int,
    pause: tuple[float, float],
    timeout: float = 60,
    first_life: Callable[[], object] | None = None,
) -> subprocess.Popen[str]:
    """`tocsin run -c config`, killed with SIGKILL `kills` times at random moments (`pause`
    seconds after each life registered in the store) and started again each time; the
    last life is returned once it too has registered (its signal handlers are set, so it can
    be stopped with SIGTERM). `first_life` runs once the first life is up: work that must
    come due across several lives."""
    rng = random.Random(seed)
    proc = start(config)
    for kill in range(kills):
        wait_for(lambda k=kill: count(factory, WorkerHeartbeat) > k, timeout=timeout)
        if kill == 0 and first_life is not None:
            first_life()
        time.sleep(rng.uniform(*pause))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc = start(config)
    wait_for(lambda: count(factory, WorkerHeartbeat) > kills, timeout=timeout)
    return proc
