"""Report runs survive `kill -9`: a real `tocsin run` process with 40 reports due, killed at
random moments and restarted. Afterwards every report ran its slot once and was posted once
(the posts are written in the transaction that completes the run)."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.processes import count, kill_9_repeatedly, wait_for
from tests.support.shop import ValueTable

from tocsin.clock import SystemClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.outbox.models import Notification
from tocsin.reports import service
from tocsin.reports.models import ReportRun

pytestmark = pytest.mark.slow

REPORTS = 40
KILLS = 4
# About a tenth of a second of SQLite's time per run, so kills land in the middle of batches.
SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) "
    "SELECT count(*) AS n FROM c"
)


def config_text(store_url: str, source_url: str) -> str:
    reports = "".join(
        f"""
  r{i:02d}:
    schedule: {{cron: "0 9 * * *", timezone: UTC}}
    channels: [console]
    sections:
      - {{type: query, title: Slow, source: shop, query: "{SLOW}"}}
      - {{type: figures, window: 1d}}
"""
        for i in range(REPORTS)
    )
    return f"""\
store: {{url: "{store_url}"}}
api: {{listen: "127.0.0.1:0"}}
worker: {{lease: 1s, poll_interval: 50ms, heartbeat_interval: 1s, concurrency: 1}}
sources:
  shop: {{type: sql, url: "{source_url}"}}
channels:
  console: {{type: console}}
reports:{reports}"""


def test_kill_9_while_reports_run_runs_and_posts_each_slot_once(
    tmp_path: Path,
    store_url: str,
    factory: sessionmaker[Session],
    start: Callable[[Path], subprocess.Popen[str]],
) -> None:
    shop = ValueTable(tmp_path / "shop.db")
    shop.set("failure_rate", 2)
    config = tmp_path / "tocsin.yaml"
    config.write_text(config_text(store_url, shop.url))
    parsed, _ = parse(config.read_text(), "tocsin.yaml", env={})
    with session_scope(factory) as s:  # every report's last slot went by while Tocsin was down
        service.sync(s, parsed.reports, SystemClock().now() - timedelta(days=1))
    proc = kill_9_repeatedly(start, config, factory, kills=KILLS, seed=7, pause=(0.05, 0.8))
    wait_for(lambda: count(factory, ReportRun, ReportRun.state == "done") >= REPORTS, timeout=90)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0

    with session_scope(factory) as s:
        runs = s.execute(select(ReportRun.report_name, ReportRun.state, ReportRun.attempts)).all()
        posts = Counter(n.payload["report"] for n in s.scalars(select(Notification)))
    done = Counter(name for name, state, _ in runs if state == "done")
    retried = sum(1 for _, state, attempts in runs if state == "done" and attempts > 1)
    print(f"\n{store_url.split(':')[0]}: {retried} runs were taken again after a kill")
    assert len(done) == REPORTS
    assert set(done.values()) == {1}, "a slot ran twice"
    assert len(posts) == REPORTS
    assert set(posts.values()) == {1}, "a report was posted twice"
