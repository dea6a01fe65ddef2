"""Three real `tocsin run` processes on one store — two `--api-only` that Prometheus-style
senders post to, one `--workers-only` — and an alert whose later `endsAt` went to one API and
whose earlier one to the other: it resolves at the latest end, not before, and once.

(`test_ends.py` proves the rule on a virtual clock with two apps in one process; this is the
same rule across processes, each with its own memory of pending ends.)"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.processes import TOCSIN, wait_for
from tests.support.web import make_token

from tocsin.alerts.models import Alert, AlertEvent
from tocsin.clock import VirtualClock
from tocsin.db import session_scope

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_the_latest_end_sent_to_either_api_process_resolves_the_alert_once(
    tmp_path: Path,
    store_url: str,
    factory: sessionmaker[Session],
    clock: VirtualClock,
    launch: list[subprocess.Popen[str]],
) -> None:
    token = make_token(factory, clock, "prometheus", "ingest")
    ports = [free_port(), free_port()]
    for i, (mode, port) in enumerate(
        [("--api-only", ports[0]), ("--api-only", ports[1]), ("--workers-only", free_port())]
    ):
        config = tmp_path / f"tocsin-{i}.yaml"
        config.write_text(
            f'store: {{url: "{store_url}"}}\n'
            f'api: {{listen: "127.0.0.1:{port}"}}\n'
            "worker: {poll_interval: 100ms, heartbeat_interval: 1s}\n"
            "channels:\n  console: {type: console, stream: stdout}\n"
        )
        log = open(tmp_path / f"run-{i}.log", "w")  # noqa: SIM115
        launch.append(
            subprocess.Popen(
                [*TOCSIN, "run", mode, "-c", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "COLUMNS": "200"},
            )
        )
    bases = [f"http://127.0.0.1:{p}" for p in ports]

    def answering() -> bool:
        try:
            return all(httpx.get(f"{b}/healthz", timeout=1).status_code == 200 for b in bases)
        except httpx.HTTPError:
            return False

    wait_for(answering, timeout=60)
    started = datetime.now(UTC).replace(microsecond=0)

    def post(base: str, ends_in: int) -> None:
        body = [
            {
                "labels": {"alertname": "QueueStuck", "severity": "critical", "job": "api"},
                "annotations": {"summary": "queue stuck"},
                "startsAt": stamp(started - timedelta(minutes=1)),
                "endsAt": stamp(started + timedelta(seconds=ends_in)),
            }
        ]
        answer = httpx.post(f"{base}/api/v2/alerts", json=body, auth=("p", token), timeout=10)
        assert answer.status_code == 200, answer.text

    post(bases[0], 8)  # the first sight: written at once
    post(bases[1], 14)  # a re-send to the other process: the latest end, held then flushed
    post(bases[0], 11)  # an earlier end sent later: must not win
    latest = started + timedelta(seconds=14)

    def resolved() -> bool:
        with session_scope(factory) as s:
            return s.scalar(select(Alert.state)) == "resolved"

    wait_for(resolved, timeout=90)
    with session_scope(factory) as s:
        alert = s.scalars(select(Alert)).one()
        assert alert.ends_at == latest
        kinds = s.scalars(
            select(AlertEvent.kind).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)
        ).all()
        resolved_at = s.scalar(
            select(AlertEvent.at).where(
                AlertEvent.alert_id == alert.id, AlertEvent.state_to == "resolved"
            )
        )
    assert kinds.count("resolved") == 1, kinds
    assert resolved_at is not None
    assert resolved_at >= latest
    print(f"resolved {(resolved_at - latest).total_seconds():.2f} s after the latest endsAt")
