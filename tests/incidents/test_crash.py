"""The update cadence and the post-mortem deadlines survive `kill -9`: a real `tocsin run`
process on the real clock, incidents whose reminders, missed-update pages and post-mortem
deadlines come due while the worker is killed at random moments and restarted. Afterwards
each reminder and each page was written once and every notification was received."""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Loopback
from tests.support.processes import count, kill_9_repeatedly, wait_for

from tocsin import actions
from tocsin.alerts.models import Alert
from tocsin.clock import SystemClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident, IncidentEvent
from tocsin.incidents.service import NewIncident
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline

pytestmark = pytest.mark.slow

INCIDENTS = 60
RESOLVED = 20  # resolved incidents whose post-mortem deadline falls during the kills
KILLS = 4
SEVERITIES = ("SEV-1", "SEV-2", "SEV-3")


def config_text(store_url: str, hook_url: str) -> str:
    return f"""\
store: {{url: "{store_url}"}}
api: {{listen: "127.0.0.1:0"}}
worker: {{lease: 1s, poll_interval: 50ms, heartbeat_interval: 1s, concurrency: 1}}
channels:
  hook: {{type: webhook, url: "{hook_url}/hook", timeout: 5s}}
users:
  ana: {{email: ana@example.com}}
  bo: {{email: bo@example.com}}
routes: {{notify: [hook]}}
incidents:
  channels: [hook]
  via: [hook]
  update_every: 1s
  update_every_by_severity: {{SEV-2: 2s, SEV-3: 3s}}
  grace: 2s
"""


@pytest.fixture
def hook() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.stop()


def declare(factory: sessionmaker[Session], text: str) -> None:
    pipeline = Pipeline(parse(text, "tocsin.yaml", env={})[0])
    clock = SystemClock()
    with session_scope(factory) as s:
        for i in range(INCIDENTS):
            new = NewIncident(
                title=f"incident {i}",
                severity=SEVERITIES[i % 3],
                services=[f"svc{i}"],
                commander=("ana", "bo", None)[i % 3],
            )
            incidents.declare(s, pipeline, new, "test", clock.now())
        for i in range(RESOLVED):
            new = NewIncident(title=f"resolved {i}", severity="SEV-3", commander="ana")
            found = actions.incidents.declare(s, pipeline, new, "test", clock.now())
            actions.incidents.move(s, pipeline, found.id, "resolved", "test", clock.now())
            # The 48 h deadline, brought forward into the next few seconds.
            found.postmortem_due_at = clock.now() + timedelta(seconds=1 + i * 0.1)


def settled(factory: sessionmaker[Session]) -> bool:
    return (
        count(factory, Incident, Incident.cadence_state == "paged") == INCIDENTS
        and count(factory, Incident, Incident.postmortem_due_at.is_not(None)) == 0
        and count(factory, Notification, Notification.state.in_(("pending", "sending"))) == 0
    )


def test_kill_9_while_reminders_are_due_sends_each_reminder_and_page_once(
    tmp_path: Path,
    store_url: str,
    factory: sessionmaker[Session],
    hook: Loopback,
    start: Callable[[Path], subprocess.Popen[str]],
) -> None:
    config = tmp_path / "tocsin.yaml"
    config.write_text(config_text(store_url, hook.url))
    proc = kill_9_repeatedly(
        start,
        config,
        factory,
        kills=KILLS,
        seed=15,
        pause=(0.3, 1.5),
        timeout=240,
        first_life=lambda: declare(factory, config.read_text()),
    )
    wait_for(lambda: settled(factory), timeout=300)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0

    with session_scope(factory) as s:
        events = Counter(
            (e.incident_id, e.kind, e.note if e.note == "post-mortem overdue" else "")
            for e in s.scalars(
                select(IncidentEvent).where(
                    IncidentEvent.kind.in_(("reminder_sent", "update_missed"))
                )
            )
        )
        reminders = Counter(
            (n.payload["incident_id"], n.payload["title"].split("] ", 1)[1])
            for n in s.scalars(select(Notification).where(Notification.alert_id.is_(None)))
            if n.payload.get("event") == "incident_reminder"
            and not n.payload["title"].endswith("Post-mortem overdue")
        )
        pages = Counter(a.labels["incident"] for a in s.scalars(select(Alert)))
        postmortem_notices = Counter(
            n.payload["incident_id"]
            for n in s.scalars(select(Notification).where(Notification.alert_id.is_(None)))
            if n.payload.get("title", "").endswith("Post-mortem overdue")
        )
        ids = set(s.scalars(select(Notification.id)))
        states = Counter(s.scalars(select(Notification.state)))
    whole = [r for r in hook.requests if len(r.body) == int(r.headers["content-length"])]
    keys = {r.headers["idempotency-key"] for r in whole}
    received = Counter(
        body["incident_id"] for body in (json.loads(r.body) for r in whole)
        if body.get("event") == "incident_reminder"
    )  # fmt: skip
    print(f"\n{store_url.split(':')[0]}: {len(hook.requests)} requests, {len(keys)} keys")

    overdue = [key for key in events if key[2] == "post-mortem overdue"]
    assert len(overdue) == RESOLVED
    assert len(events) == 2 * INCIDENTS + RESOLVED
    assert set(events.values()) == {1}, "a reminder or a missed update was recorded twice"
    # Each incident: one reminder, then one notice of the missed update — to its commander,
    # or to nobody when it has none and no on-call is configured for its service.
    with_commander = INCIDENTS - INCIDENTS // 3
    assert sum(1 for (_, title) in reminders if title == "Status update due") == with_commander
    assert sum(1 for (_, title) in reminders if title == "Status update missed") == with_commander
    assert set(reminders.values()) == {1}, "a reminder was written twice"
    assert len(pages) == INCIDENTS
    # to the incident's channel and to its commander, once each
    assert set(postmortem_notices.values()) == {2}
    assert set(pages.values()) == {1}, "an incident was paged twice"
    assert states == {"sent": len(ids)}
    assert keys == ids, "the receiver got exactly the notifications in the store"
    assert len(received) == with_commander + RESOLVED
