"""Real senders on loopback: Debian's Prometheus using Tocsin as its Alertmanager, and
amtool adding and querying an alert. Skipped only when the binary is missing."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

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

pytestmark = pytest.mark.slow
RULE = """groups:
  - name: tocsin-test
    interval: 1s
    rules:
      - alert: TocsinTestFires
        expr: vector(1)
        labels: {severity: critical, team: checkout}
        annotations: {summary: "the test rule fires", description: "vector(1) is always 1"}
"""


def alert_states(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with session_scope(factory) as s:
        return [(a.title, a.state) for a in s.scalars(select(Alert).order_by(Alert.id))]


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus is not installed")
def test_prometheus_fires_notifies_and_resolves_through_tocsin(
    tmp_path: Path, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    token = make_token(factory, clock, "prometheus", "ingest")
    settings = Settings(api_config(), factory, SystemClock())
    rules = tmp_path / "rules.yml"
    rules.write_text(RULE)
    with serving(settings) as url:
        (tmp_path / "prometheus.yml").write_text(
            json.dumps(
                {
                    "global": {"evaluation_interval": "1s", "scrape_interval": "1s"},
                    "rule_files": [str(rules)],
                    "alerting": {
                        "alertmanagers": [
                            {
                                "api_version": "v2",
                                "authorization": {"credentials": token},
                                "static_configs": [{"targets": [url.removeprefix("http://")]}],
                            }
                        ]
                    },
                }
            )
        )
        proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{free_port()}",
                "--rules.alert.resend-delay=1s",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "prometheus.log", "w"),  # noqa: SIM115
        )
        try:
            wait_for(lambda: alert_states(factory) == [("the test rule fires", "firing")])
            lines: list[str] = []
            worker = Worker(settings.config, factory, SystemClock(), console_write=lines.append)
            worker.tick()
            assert any("the test rule fires" in line for line in lines)
            rules.write_text(RULE.replace("vector(1)", "vector(1) > 2"))
            proc.send_signal(signal.SIGHUP)  # the rule stops firing: Prometheus resolves it
            wait_for(lambda: alert_states(factory) == [("the test rule fires", "resolved")])
            lines.clear()
            worker.tick()
            worker.stop()
            assert any("resolved" in line.lower() for line in lines)
        finally:
            proc.terminate()
            proc.wait(20)
    with session_scope(factory) as s:
        stored = s.scalars(select(Alert)).one()
    assert (stored.severity, stored.origin, stored.labels["team"]) == (
        "CRITICAL",
        "alertmanager",
        "checkout",
    )


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")
def test_amtool_adds_and_queries_an_alert(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    token = make_token(factory, clock, "amtool", "ingest,read")
    with serving(Settings(api_config(), factory, SystemClock())) as url:
        am_url = url.replace("http://", f"http://amtool:{token}@")
        added = subprocess.run(
            ["amtool", f"--alertmanager.url={am_url}", "alert", "add", "DiskFull",
             "severity=warning", "host=db1", "--annotation=summary=disk full on db1"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        queried = subprocess.run(
            ["amtool", f"--alertmanager.url={am_url}", "alert", "query", "-o", "json"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert queried.returncode == 0, queried.stderr
    (alert,) = json.loads(queried.stdout)
    assert alert["labels"] == {"alertname": "DiskFull", "severity": "warning", "host": "db1"}
    assert alert["annotations"]["summary"] == "disk full on db1"
    assert alert_states(factory) == [("disk full on db1", "firing")]
