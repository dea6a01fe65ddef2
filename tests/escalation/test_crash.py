"""Escalation survives `kill -9`: a real `tocsin run` process, 200 alerts escalating on the
real clock, the worker killed at random moments and restarted. Afterwards every step fired
once, every notification was received, and only a send cut off before its outcome was
recorded may have reached the receiver twice (under the same Idempotency-Key, which is how
the receiver tells)."""

from __future__ import annotations

import inspect
import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Loopback
from tests.support.processes import count, kill_9_repeatedly, wait_for

from tocsin import actions
from tocsin.alerts.models import AlertEvent
from tocsin.clock import SystemClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.escalation.models import Escalation, EscalationStep
from tocsin.fingerprint import fingerprint
from tocsin.outbox.models import Notification
from tocsin.outbox.service import claim_due
from tocsin.pipeline import Pipeline

pytestmark = pytest.mark.slow

ALERTS = 200
KILLS = 5
STEP_AFTER = (0, 2, 4, 7)  # seconds: the process runs on the real clock
# Rows a sender claims in one commit: a kill can cut off at most those between send and record.
CLAIM_BATCH = inspect.signature(claim_due).parameters["limit"].default


def config_text(store_url: str, hook_url: str) -> str:
    steps = "".join(f"\n      - {{after: {after}s, notify: [hook]}}" for after in STEP_AFTER)
    return f"""\
store: {{url: "{store_url}"}}
api: {{listen: "127.0.0.1:0"}}  # an ephemeral port: 8080 may be taken on a shared machine
worker: {{lease: 1s, poll_interval: 50ms, heartbeat_interval: 1s, concurrency: 1}}
channels:
  hook: {{type: webhook, url: "{hook_url}/hook", timeout: 5s}}
routes: {{notify: [], escalation: page}}  # the policy does all the paging
escalation_policies:
  page:
    steps:{steps}
"""


@pytest.fixture
def hook() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.stop()


def raise_alerts(factory: sessionmaker[Session], text: str) -> None:
    """200 CRITICAL alerts fired through the pipeline, as a check or an inbound event would:
    each starts the policy, whose first step fires in the same commit."""
    pipeline = Pipeline(parse(text, "tocsin.yaml", env={})[0])
    clock = SystemClock()
    with session_scope(factory) as s:
        for i in range(ALERTS):
            labels = {"service": f"svc{i:03d}"}
            actions.alerts.fire(
                s,
                pipeline,
                actions.alerts.NewAlert(
                    fingerprint=fingerprint("crash", labels),
                    origin="event",
                    labels=labels,
                    severity="CRITICAL",
                    title=f"svc{i:03d} down",
                    message="",
                ),
                clock.now(),
            )


def drained(factory: sessionmaker[Session]) -> bool:
    return (
        count(factory, EscalationStep, EscalationStep.state == "pending") == 0
        and count(factory, Notification, Notification.state.in_(("pending", "sending"))) == 0
    )


def test_kill_9_while_escalating_fires_every_step_once_and_loses_no_notification(
    tmp_path: Path,
    store_url: str,
    factory: sessionmaker[Session],
    hook: Loopback,
    start: Callable[[Path], subprocess.Popen[str]],
) -> None:
    config = tmp_path / "tocsin.yaml"
    config.write_text(config_text(store_url, hook.url))
    due: list[float] = []

    def raise_them() -> None:  # with a worker running, so steps come due across several lives
        raise_alerts(factory, config.read_text())
        due.append(time.monotonic() + max(STEP_AFTER))

    proc = kill_9_repeatedly(
        start, config, factory, kills=KILLS, seed=4, pause=(0.05, 1.2), first_life=raise_them
    )
    wait_for(lambda: time.monotonic() > due[0] and drained(factory), timeout=60)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0

    with session_scope(factory) as s:
        ids = set(s.scalars(select(Notification.id)).all())
        states = Counter(s.scalars(select(Notification.state)).all())
        step_rows = s.execute(
            select(EscalationStep.escalation_id, EscalationStep.step, EscalationStep.state)
        ).all()
        escalations = s.scalar(select(func.count()).select_from(Escalation))
        timeline = Counter(
            (e.alert_id, e.data["step"], e.data["repeat"])
            for e in s.scalars(select(AlertEvent).where(AlertEvent.kind == "escalation_step"))
        )
        step_notes = Counter(
            (n.alert_id, n.payload["escalation"]["step"], n.payload["escalation"]["repeat"])
            for n in s.scalars(select(Notification))
            if "escalation" in n.payload
        )
    # A kill in the middle of a request leaves the receiver a cut-off body, which it rejects:
    # that request delivered nothing, and the restarted worker sends the notification again.
    whole = [r for r in hook.requests if len(r.body) == int(r.headers["content-length"])]
    keys = [r.headers["idempotency-key"] for r in whole]
    received_steps = {
        (body["alert_id"], body["escalation"]["step"])
        for body in (json.loads(r.body) for r in whole)
        if "escalation" in body
    }
    duplicates = len(keys) - len(set(keys))
    print(
        f"\n{store_url.split(':')[0]}: {len(hook.requests)} requests "
        f"({len(hook.requests) - len(whole)} cut off by a kill), {len(set(keys))} keys, "
        f"{duplicates} raw duplicates after {KILLS} kills"
    )

    steps = len(STEP_AFTER)
    assert escalations == ALERTS
    assert len(step_rows) == ALERTS * steps
    assert {state for _, _, state in step_rows} == {"fired"}
    assert len(timeline) == ALERTS * steps
    assert set(timeline.values()) == {1}, "a step fired twice"
    assert len(step_notes) == len(ids)
    assert set(step_notes.values()) == {1}, "a step's notification was written twice"
    assert states == {"sent": ALERTS * steps}, "every notification due was sent"
    assert set(keys) == ids, "the receiver got exactly the notifications in the store"
    assert len(received_steps) == ALERTS * steps
    assert duplicates <= KILLS * CLAIM_BATCH
