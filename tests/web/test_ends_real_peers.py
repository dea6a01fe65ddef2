"""Debian's Prometheus sends one rule's alert to Tocsin and to Debian's Alertmanager side by
side: the rule added, both fire; the rule removed (Prometheus then sends nothing more), both
resolve once the last `endsAt` it sent passes, Tocsin never before it. Skipped only when a
binary is missing. The delays after that `endsAt` are printed (`-s`), not asserted: they
depend on the machine's load."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.peers import free_port, serving, wait_for
from tests.support.web import api_config, make_token

from tocsin.alerts.models import Alert
from tocsin.clock import SystemClock, VirtualClock
from tocsin.db import session_scope
from tocsin.web.deps import Settings
from tocsin.worker.loop import Worker

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None,
        reason="prometheus or prometheus-alertmanager is not installed",
    ),
]
NO_RULES = "groups: []\n"
# Evaluated every second; with a resend delay of 3 s Prometheus sends every 3 s an endsAt
# 12 s ahead (4 × the delay), so Tocsin answers most re-sends from memory and writes their
# ends in its once-a-second flush.
RULE = """groups:
  - name: ends
    interval: 1s
    rules:
      - alert: EndsTogether
        expr: vector(1)
        labels: {severity: warning}
        annotations: {summary: "ends together"}
"""


@contextmanager
def alertmanager(tmp: Path) -> Iterator[str]:
    port = free_port()
    (tmp / "am.yml").write_text(
        json.dumps({"route": {"receiver": "x"}, "receivers": [{"name": "x"}]})
    )
    proc = subprocess.Popen(
        ["prometheus-alertmanager", f"--config.file={tmp / 'am.yml'}",
         f"--storage.path={tmp / 'am'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _ready(base + "/-/ready"))
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def working(worker: Worker) -> Iterator[None]:
    """The worker ticking every half second on a thread of its own (as `tocsin run`)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            worker.tick()
            stop.wait(0.5)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
        worker.stop()


def tocsin_alert(factory: sessionmaker[Session]) -> Alert | None:
    with session_scope(factory) as s:
        return s.scalars(select(Alert).order_by(Alert.id.desc())).first()


def am_alerts(base: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(base + "/api/v2/alerts", timeout=5).json()
    return found


def test_a_removed_rule_resolves_in_tocsin_as_in_alertmanager(
    tmp_path: Path, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    token = make_token(factory, clock, "prometheus", "ingest")
    settings = Settings(api_config(), factory, SystemClock())
    rules = tmp_path / "rules.yml"
    rules.write_text(NO_RULES)
    worker = Worker(settings.config, factory, SystemClock(), console_write=lambda _line: None)
    with serving(settings) as url, alertmanager(tmp_path) as am, working(worker):
        config = {
            "global": {"evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "alerting": {
                "alertmanagers": [
                    {
                        "api_version": "v2",
                        "authorization": {"credentials": token},
                        "static_configs": [{"targets": [url.removeprefix("http://")]}],
                    },
                    {
                        "api_version": "v2",
                        "static_configs": [{"targets": [am.removeprefix("http://")]}],
                    },
                ]
            },
        }
        (tmp_path / "prometheus.yml").write_text(json.dumps(config))
        proc = subprocess.Popen(
            ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{free_port()}", "--rules.alert.resend-delay=3s"],
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "prometheus.log", "w"),  # noqa: SIM115
        )  # fmt: skip
        try:
            time.sleep(2)  # no rule: nothing fires anywhere
            assert tocsin_alert(factory) is None
            assert am_alerts(am) == []
            rules.write_text(RULE)
            proc.send_signal(signal.SIGHUP)  # the rule added: both fire
            wait_for(lambda: len(am_alerts(am)) == 1)
            wait_for(lambda: (a := tocsin_alert(factory)) is not None and a.state == "firing")
            time.sleep(8)  # a few re-sends, each moving endsAt later
            rules.write_text(NO_RULES)
            proc.send_signal(signal.SIGHUP)  # the rule removed: Prometheus goes quiet
            am_end: list[datetime] = []

            def am_resolved() -> bool:
                shown = am_alerts(am)
                if shown:
                    am_end[:] = [datetime.fromisoformat(shown[0]["endsAt"])]
                    return False
                return True

            wait_for(am_resolved)
            am_resolved_at = datetime.now(UTC)
            wait_for(lambda: (a := tocsin_alert(factory)) is not None and a.state == "resolved")
        finally:
            proc.terminate()
            proc.wait(20)
    alert = tocsin_alert(factory)
    assert alert is not None
    assert alert.ends_at is not None
    assert alert.resolved_at is not None
    assert alert.resolved_by is None  # the end passing, not a resolve Prometheus sent
    assert alert.resolved_at >= alert.ends_at  # never before the last endsAt sent
    assert am_end  # Alertmanager showed the alert with the end it expired at
    print(
        f"\nlast endsAt: Alertmanager {am_end[0].isoformat()}, Tocsin {alert.ends_at.isoformat()}"
        f"\nresolved after it: Alertmanager {(am_resolved_at - am_end[0]).total_seconds():.1f} s"
        f" (seen by polling), Tocsin {(alert.resolved_at - alert.ends_at).total_seconds():.1f} s"
    )
