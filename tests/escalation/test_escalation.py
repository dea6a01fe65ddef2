"""Escalation on the virtual clock: steps as due rows, stopped by acknowledgement, repeats,
resolution telling only those already told, policies copied onto the alert."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin import acklinks, actions
from tocsin.alerts import service as alerts
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.escalation import service as escalations
from tocsin.fingerprint import fingerprint
from tocsin.oncall import service as oncall
from tocsin.outbox.models import Notification
from tocsin.outbox.payload import Message
from tocsin.pipeline import Pipeline
from tocsin.worker.loop import Worker

CHANNELS = """
channels:
  pd: {type: pagerduty, routing_key: K, url: "http://127.0.0.1:9/pd"}
  phone: {type: twilio, mode: voice, account_sid: AC1, auth_token: t, from_number: "+1000",
          to: ["+1555"]}
  sms: {type: twilio, account_sid: AC1, auth_token: t, from_number: "+1000",
        to: ["+1555", "+1666"]}
  discord: {type: discord, url: "http://127.0.0.1:9/d"}
  mail: {type: email, host: 127.0.0.1, from_address: t@example.com, to: [ops@example.com]}
  log: {type: console}
"""

# Reference 000 §6.2.3: CRITICAL 0/5/15/30 minutes.
POLICIES = """
escalation_policies:
  critical:
    steps:
      - {after: 0m, notify: [pd]}
      - {after: 5m, notify: [phone]}
      - {after: 15m, notify: [sms]}
      - {after: 30m, notify: [discord]}
  high:
    steps:
      - {after: 0m, notify: [discord]}
      - {after: 15m, notify: [mail]}
    repeat: 10m
    repeat_limit: 3
"""


@dataclass
class Recorder:
    """Channels that record what the worker hands them (the real channels have their own
    tests against loopback servers; here only who is told when matters)."""

    sent: list[tuple[str, str | None, str]] = field(default_factory=list)

    def channels(self, config: TocsinConfig) -> dict[str, object]:
        return {name: _Recording(name, self) for name in config.channels}

    def seen(self) -> list[tuple[str, str | None, str]]:
        out, self.sent = self.sent, []
        return out


@dataclass
class _Recording:
    name: str
    recorder: Recorder

    def send(self, message: Message) -> None:
        self.recorder.sent.append((message.channel, message.target, message.payload["event"]))


def config(extra: str = "") -> TocsinConfig:
    return parse(CHANNELS + POLICIES + extra, "t.yaml", env={})[0]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def worker(
    factory: sessionmaker[Session], clock: VirtualClock, recorder: Recorder
) -> Iterator[Worker]:
    cfg = config()
    w = Worker(cfg, factory, clock, channels=recorder.channels(cfg), threads=False)  # type: ignore[arg-type]
    w.start()
    yield w
    w.stop()


def raise_alert(
    factory: sessionmaker[Session],
    pipeline: Pipeline,
    clock: VirtualClock,
    severity: str = "CRITICAL",
    name: str = "payments",
) -> int:
    with session_scope(factory) as s:
        alert, _ = actions.alerts.fire(
            s,
            pipeline,
            actions.alerts.NewAlert(
                fingerprint=fingerprint(name, {}),
                origin="event",
                labels={"service": name},
                severity=severity,
                title=f"{name} down",
                message="",
            ),
            clock.now(),
        )
        return alert.id


def run_until(worker: Worker, clock: VirtualClock, minutes: float) -> None:
    """Advance the virtual clock minute by minute, ticking the worker each time."""
    end = clock.now() + timedelta(minutes=minutes)
    while clock.now() < end:
        clock.advance(timedelta(minutes=1))
        while worker.tick():
            pass


def test_steps_fire_when_due_and_an_acknowledgement_stops_the_chain(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker, recorder: Recorder
) -> None:
    alert_id = raise_alert(factory, worker.pipeline, clock)
    worker.tick()
    # At once: the CRITICAL route (§6.2.1) and step 1 of the policy (PagerDuty).
    first = recorder.seen()
    assert ("pd", None, "fired") in first
    # The route and step 1 both name PagerDuty: one transition pages it once.
    assert first.count(("pd", None, "fired")) == 1
    assert ("sms", "+1666", "fired") in first  # one row per number
    run_until(worker, clock, 4)
    assert recorder.seen() == []
    run_until(worker, clock, 1)  # 5 minutes: step 2, the phone
    assert recorder.seen() == [("phone", "+1555", "fired")]
    clock.advance(timedelta(minutes=3))
    with session_scope(factory) as s:
        actions.alerts.acknowledge(s, worker.pipeline, alert_id, "ana", clock.now())
    run_until(worker, clock, 60)
    told = recorder.seen()
    assert {event for _, _, event in told} == {"acknowledged"}
    assert ("phone", "+1555", "acknowledged") in told  # everyone told hears of the ack
    with session_scope(factory) as s:
        steps = escalations.for_alert(s, alert_id)
        assert [(st.step, st.state) for st in steps] == [
            (0, "fired"),
            (1, "fired"),
            (2, "cancelled"),
            (3, "cancelled"),
        ]
        kinds = [e.kind for e in alerts.timeline(s, alert_id)]
    assert kinds == [
        "fired",
        "escalation_step",
        "escalation_step",
        "acknowledged",
        "escalation_stopped",
    ]


def test_every_step_is_on_the_timeline_with_targets_and_lateness(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker
) -> None:
    alert_id = raise_alert(factory, worker.pipeline, clock)
    clock.advance(timedelta(minutes=5, seconds=20))
    worker.tick()
    with session_scope(factory) as s:
        steps = [e for e in alerts.timeline(s, alert_id) if e.kind == "escalation_step"]
    assert [e.note for e in steps] == [
        "step 1 of critical: nobody new (already told: pd)",
        "step 2 of critical: phone → +1555",
    ]
    assert steps[1].data["late_seconds"] == 20
    assert steps[1].data["deliveries"] == [["phone", "+1555"]]


def test_the_last_step_repeats_until_acknowledged_up_to_its_limit(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker, recorder: Recorder
) -> None:
    raise_alert(factory, worker.pipeline, clock, "HIGH", "web")
    worker.tick()
    recorder.seen()
    run_until(worker, clock, 15)
    assert recorder.seen() == [("mail", None, "fired")]
    run_until(worker, clock, 60)
    # Repeats at 25, 35 and 45 minutes, then the limit of 3 is reached.
    assert recorder.seen() == [("mail", None, "fired")] * 3


def test_resolution_tells_those_already_told_and_nobody_else(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker, recorder: Recorder
) -> None:
    alert_id = raise_alert(factory, worker.pipeline, clock)
    worker.tick()
    recorder.seen()
    with session_scope(factory) as s:
        actions.alerts.resolve(s, worker.pipeline, alert_id, "ana", clock.now())
    run_until(worker, clock, 60)
    told = recorder.seen()
    assert {c for c, _, _ in told} == {"pd", "phone", "sms", "discord", "log"}
    assert {e for _, _, e in told} == {"resolved"}
    # phone was told by the CRITICAL route; step 2 (phone again) never fired.
    assert told.count(("phone", "+1555", "resolved")) == 1


def test_a_policy_is_copied_onto_the_alert_so_config_edits_do_not_change_it(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker, recorder: Recorder
) -> None:
    raise_alert(factory, worker.pipeline, clock)
    worker.tick()
    recorder.seen()
    edited = config().model_copy(update={"escalation_policies": {}})
    worker.reload(edited)
    run_until(worker, clock, 5)
    assert recorder.seen() == [("phone", "+1555", "fired")]


def test_a_severity_upgrade_starts_the_new_severitys_policy(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker, recorder: Recorder
) -> None:
    alert_id = raise_alert(factory, worker.pipeline, clock, "WARNING")
    worker.tick()
    assert {c for c, _, _ in recorder.seen()} == {"discord", "mail", "log"}
    with session_scope(factory) as s:
        actions.alerts.change_severity(s, worker.pipeline, alert_id, "CRITICAL", clock.now())
    worker.tick()
    told = recorder.seen()
    assert ("pd", None, "severity_changed") in told  # the new route
    assert ("mail", None, "severity_changed") in told  # those already told
    assert ("pd", None, "fired") not in told  # step 1 names pd, told by this very change
    run_until(worker, clock, 5)
    assert recorder.seen() == [("phone", "+1555", "fired")]  # the critical policy runs


def test_steps_of_a_resolved_alert_are_cancelled_not_fired(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker
) -> None:
    alert_id = raise_alert(factory, worker.pipeline, clock)
    with session_scope(factory) as s:
        alert = alerts.get(s, alert_id)
        alerts.resolve(s, alert.id, None, clock.now(), "gone")  # bypassing the pipeline
    run_until(worker, clock, 40)
    with session_scope(factory) as s:
        states = [st.state for st in escalations.for_alert(s, alert_id)]
    assert states == ["fired", "cancelled", "cancelled", "cancelled"]


def test_the_info_digest_is_one_notification_per_channel_at_digest_time(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker, recorder: Recorder
) -> None:
    # The virtual clock starts at 14:00 UTC; the digest goes at 08:00 UTC the next day.
    for name in ("cache", "disk", "cert"):
        raise_alert(factory, worker.pipeline, clock, "INFO", name)
    worker.tick()
    assert recorder.seen() == [("log", None, "fired")] * 3  # the log at once
    clock.advance(timedelta(hours=17, minutes=59))
    worker.tick()
    assert recorder.seen() == []
    clock.advance(timedelta(minutes=1))
    while worker.tick():
        pass
    assert recorder.seen() == [("mail", None, "digest")]
    with session_scope(factory) as s:
        (digest,) = s.scalars(select(Notification).where(Notification.alert_id.is_(None))).all()
        parked = s.scalars(select(Notification.state).where(Notification.channel == "mail")).all()
    assert sorted(a["title"] for a in digest.payload["alerts"]) == [
        "cache down",
        "cert down",
        "disk down",
    ]
    assert sorted(parked) == ["digested"] * 3 + ["sent"]


def test_a_severity_drop_stops_the_higher_policy(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker, recorder: Recorder
) -> None:
    alert_id = raise_alert(factory, worker.pipeline, clock, "CRITICAL")
    worker.tick()
    recorder.seen()
    with session_scope(factory) as s:
        actions.alerts.change_severity(s, worker.pipeline, alert_id, "HIGH", clock.now())
    run_until(worker, clock, 20)
    told = recorder.seen()
    assert ("phone", "+1555", "fired") not in told  # critical's step 2 was cancelled
    assert ("mail", None, "fired") in told  # high's step 2, 15 minutes after the change
    with session_scope(factory) as s:
        notes = [e.note for e in alerts.timeline(s, alert_id) if e.kind == "escalation_stopped"]
    assert notes == ["severity changed to HIGH: 3 pending step(s) cancelled"]


def test_steps_page_whoever_is_on_call_then_the_backup_schedule(
    factory: sessionmaker[Session], clock: VirtualClock, recorder: Recorder
) -> None:
    """The shipped on-call example (reference 002 §6): P1 pages the on-call engineer at once,
    then at 15 minutes the backup schedule (seniors) and the CTO; an override moves the page."""
    text = resources.files("tocsin.examples").joinpath("oncall.yaml").read_text("utf-8")
    cfg = parse(text, "oncall.yaml", env={})[0]
    worker = Worker(cfg, factory, clock, channels=recorder.channels(cfg), threads=False)  # type: ignore[arg-type]
    worker.start()
    with session_scope(factory) as s:
        # Ben takes the rest of today's shift from whoever has it.
        oncall.create_override(
            s,
            cfg,
            schedule="engineer",
            user="ben",
            start=clock.now(),
            end=clock.now() + timedelta(hours=3),
            by="ben",
            now=clock.now(),
        )
    alert_id = raise_alert(factory, worker.pipeline, clock, "CRITICAL")
    worker.tick()
    assert recorder.seen() == [("console", None, "fired"), ("console", "ben", "fired")]
    run_until(worker, clock, 15)
    told = recorder.seen()
    assert ("console", "cto", "fired") in told
    assert len(told) == 2  # one senior (the backup schedule's on-call) and the CTO
    with session_scope(factory) as s:
        notes = [e.note for e in alerts.timeline(s, alert_id) if e.kind == "escalation_step"]
    assert notes[0] == "step 1 of p1: console → ben"
    worker.stop()


def test_notifications_of_a_firing_alert_carry_a_signed_acknowledge_link(
    factory: sessionmaker[Session], clock: VirtualClock, worker: Worker
) -> None:
    alert_id = raise_alert(factory, worker.pipeline, clock)
    with session_scope(factory) as s:
        rows = s.scalars(select(Notification).where(Notification.alert_id == alert_id)).all()
        key = acklinks.secret(s, worker.config, clock.now())
    links = {row.payload["ack_url"] for row in rows}
    assert len(links) == 1  # one token per transition
    (link,) = links
    assert link.startswith(f"{worker.config.public_url}/ack/")
    assert acklinks.verify_token(key, link.rsplit("/", 1)[1], clock.now(), alert_id) == alert_id
    with session_scope(factory) as s:
        actions.alerts.acknowledge(s, worker.pipeline, alert_id, "ana", clock.now())
        acked = s.scalars(
            select(Notification).where(
                Notification.alert_id == alert_id, Notification.created_at == clock.now()
            )
        ).all()
    acks = [row for row in acked if row.payload["event"] == "acknowledged"]
    assert acks  # everyone told hears of the acknowledgement...
    assert all("ack_url" not in row.payload for row in acks)  # ...with nothing left to ack
