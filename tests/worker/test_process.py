"""`tocsin run` as a real process: kill -9 loses nothing, SIGTERM stops cleanly, SIGHUP
reloads and keeps the good configuration when the new one is bad."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.processes import TOCSIN, count, wait_for
from tests.support.shop import ValueTable

from tocsin.alerts.models import Alert
from tocsin.checks.models import CheckSchedule, Evaluation
from tocsin.db import session_scope
from tocsin.instances.models import WorkerHeartbeat
from tocsin.outbox.models import Notification

pytestmark = pytest.mark.slow


def config_text(store_url: str, shop: ValueTable, names: tuple[str, ...] = ("a", "b", "c")) -> str:
    checks = "".join(
        f"""
  - name: rate_{n}
    source: shop
    schedule: {{every: 1s}}
    query: SELECT value FROM metric WHERE name = 'rate_{n}'
    labels: {{service: s{n}}}
    conditions:
      - {{when: ">= 10", severity: HIGH}}
"""
        for n in names
    )
    return f"""\
store: {{url: "{store_url}"}}
worker: {{lease: 3s, poll_interval: 100ms, heartbeat_interval: 1s, concurrency: 2}}
api: {{listen: "127.0.0.1:0"}}
sources:
  shop: {{type: sql, url: "{shop.url}"}}
channels:
  console: {{type: console, stream: stdout}}
checks:{checks}"""


@pytest.fixture
def shop(tmp_path: Path) -> ValueTable:
    table = ValueTable(tmp_path / "shop.db")
    for name in "abcd":
        table.set(f"rate_{name}", 1)
    return table


def migrate(store_url: str) -> None:
    subprocess.run(
        [*TOCSIN, "db", "upgrade"],
        check=True,
        capture_output=True,
        env={**os.environ, "TOCSIN_DATABASE_URL": store_url},
    )


def test_kill_9_at_random_moments_loses_nothing(
    tmp_path: Path,
    store_url: str,
    factory: sessionmaker[Session],
    shop: ValueTable,
    start: Callable[[Path], subprocess.Popen[str]],
) -> None:
    config = tmp_path / "tocsin.yaml"
    config.write_text(config_text(store_url, shop))
    rng = random.Random(7)
    for round_ in range(4):
        proc = start(config)
        # Flip values so alerts fire and resolve while we kill.
        for name in "abc":
            shop.set(f"rate_{name}", rng.choice([1, 12]))
        before = count(factory, Evaluation)
        wait_for(lambda b=before: count(factory, Evaluation) > b + 2)
        time.sleep(rng.uniform(0.0, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Leases are held by a dead process until they expire (3 s); let them.
        time.sleep(3.2 if round_ < 3 else 0)
    shop.set("rate_a", 12)
    proc = start(config)
    wait_for(
        lambda: (
            count(factory, Notification, Notification.state.in_(("pending", "sending"))) == 0
            and count(factory, Alert, Alert.check_name == "rate_a", Alert.state == "firing") == 1
        )
    )
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    with session_scope(factory) as s:
        slots = s.execute(select(Evaluation.check_name, Evaluation.slot_at)).all()
        open_per_fp = s.execute(
            select(Alert.fingerprint, func.count())
            .where(Alert.state != "resolved")
            .group_by(Alert.fingerprint)
        ).all()
        alerts = s.scalar(select(func.count()).select_from(Alert))
        sent = s.scalar(
            select(func.count()).select_from(Notification).where(Notification.state == "sent")
        )
        fired_events = s.scalar(select(func.count()).select_from(Notification))
        leases = s.scalars(select(CheckSchedule.lease_owner)).all()
    assert len(slots) == len(set(slots)), "a slot was evaluated twice"
    assert all(n == 1 for _, n in open_per_fp), "two open alerts for one fingerprint"
    assert alerts >= 1
    assert sent == fired_events, "every notification written was sent"
    assert leases == [None, None, None], "a clean stop hands leases back"


def test_sigterm_stops_gracefully_and_marks_the_heartbeat(
    tmp_path: Path,
    store_url: str,
    factory: sessionmaker[Session],
    shop: ValueTable,
    start: Callable[[Path], subprocess.Popen[str]],
) -> None:
    config = tmp_path / "tocsin.yaml"
    config.write_text(config_text(store_url, shop))
    migrate(store_url)
    proc = start(config)
    wait_for(lambda: count(factory, Evaluation) >= 3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    with session_scope(factory) as s:
        (beat,) = s.scalars(select(WorkerHeartbeat)).all()
    assert beat.stopped_at is not None
    assert beat.heartbeat_at >= beat.started_at
    log = (tmp_path / "run-0.log").read_text()
    assert "received SIGTERM" in log


def test_sighup_with_a_bad_file_keeps_the_good_configuration(
    tmp_path: Path,
    store_url: str,
    factory: sessionmaker[Session],
    shop: ValueTable,
    start: Callable[[Path], subprocess.Popen[str]],
) -> None:
    config = tmp_path / "tocsin.yaml"
    config.write_text(config_text(store_url, shop, names=("a",)))
    migrate(store_url)
    proc = start(config)
    wait_for(lambda: count(factory, Evaluation) >= 1)
    config.write_text(config_text(store_url, shop, names=("a",)).replace("HIGH", "HIHG"))
    proc.send_signal(signal.SIGHUP)
    log_path = tmp_path / "run-0.log"
    wait_for(lambda: "keeping the running configuration" in log_path.read_text())
    assert "'HIHG' is not one of" in log_path.read_text()
    before = count(factory, Evaluation)
    wait_for(lambda: count(factory, Evaluation) > before + 1)  # still working
    config.write_text(config_text(store_url, shop, names=("a", "d")))
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: count(factory, Evaluation, Evaluation.check_name == "rate_d") >= 1)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
