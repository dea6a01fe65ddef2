"""Heartbeats on the virtual clock (late, missed, failed, recovered) and acknowledge links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support import timers
from tests.support.web import CRON_KEY, HEARTBEAT_KEY, ack_path, alerts_in, api_config

from tocsin import acklinks
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.heartbeats.models import HeartbeatPing
from tocsin.pipeline import Pipeline


def tick(factory: sessionmaker[Session], clock: VirtualClock) -> int:
    return timers.tick(factory, Pipeline(api_config()), clock.now())


def beat_status(client: TestClient, admin: dict[str, str], name: str) -> str:
    rows = {h["name"]: h for h in client.get("/api/v1/heartbeats", headers=admin).json()}
    return str(rows[name]["status"])


def test_a_heartbeat_goes_late_then_missed_then_recovers(
    client: TestClient, admin: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    assert beat_status(client, admin, "backup") == "new"
    clock.advance(timedelta(days=2))
    assert tick(factory, clock) == 0  # never pinged: not watched yet
    assert client.get(f"/ping/{HEARTBEAT_KEY}").text == "OK"
    clock.advance(timedelta(minutes=65))
    assert beat_status(client, admin, "backup") == "late"
    assert tick(factory, clock) == 0  # within grace
    clock.advance(timedelta(minutes=6))
    assert tick(factory, clock) == 1
    (alert,) = alerts_in(factory)
    assert (alert.origin, alert.severity, alert.state) == ("heartbeat", "HIGH", "firing")
    assert alert.title == "Heartbeat backup missed its ping"
    assert alert.labels == {"service": "db", "heartbeat": "backup"}
    assert beat_status(client, admin, "backup") == "down"
    clock.advance(timedelta(hours=3))
    assert tick(factory, clock) == 0  # one alert until the next success
    client.post(f"/ping/{HEARTBEAT_KEY}", content=b"done")
    assert [a.state for a in alerts_in(factory)] == ["resolved"]
    assert beat_status(client, admin, "backup") == "up"


def test_a_failed_run_alerts_at_once_and_keeps_its_log(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    client.post(f"/ping/{HEARTBEAT_KEY}/start")
    clock.advance(timedelta(seconds=42))
    client.post(f"/ping/{HEARTBEAT_KEY}/3", content=b"x" * 20_000 + b"\nERROR: disk full")
    (alert,) = alerts_in(factory)
    assert alert.title == "Heartbeat backup exited with 3"
    assert alert.message.endswith("ERROR: disk full")
    with session_scope(factory) as s:
        pings = s.scalars(select(HeartbeatPing).order_by(HeartbeatPing.id)).all()
    assert [(p.kind, p.exit_code, p.duration_s) for p in pings] == [
        ("start", None, None),
        ("fail", 3, 42.0),
    ]
    assert len(pings[1].body) == 10_001
    client.get(f"/ping/{HEARTBEAT_KEY}/0")
    assert [a.state for a in alerts_in(factory)] == ["resolved"]


def test_a_started_run_that_never_finishes_alerts_after_grace(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    client.get(f"/ping/{HEARTBEAT_KEY}")
    clock.advance(timedelta(minutes=5))
    client.get(f"/ping/{HEARTBEAT_KEY}/start")
    clock.advance(timedelta(minutes=11))
    assert tick(factory, clock) == 1
    assert alerts_in(factory)[0].title == "Heartbeat backup started but did not finish"


def test_a_cron_heartbeat_is_due_at_its_next_time_in_its_zone(
    client: TestClient, admin: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    client.get(f"/ping/{CRON_KEY}")  # 09:00 New York; next due 03:00 New York = 08:00 UTC
    rows = {h["name"]: h for h in client.get("/api/v1/heartbeats", headers=admin).json()}
    assert rows["nightly"]["next_due_at"].startswith("2026-11-18T08:00:00")
    clock.advance(timedelta(hours=18, minutes=29))
    assert tick(factory, clock) == 0
    clock.advance(timedelta(minutes=2))
    assert tick(factory, clock) == 1


def test_unknown_ping_keys_are_404_and_generated_keys_are_listed(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert client.get("/ping/not-a-uuid").status_code == 404
    assert client.get("/ping/6ba7b810-9dad-11d1-80b4-00c04fd430c8").status_code == 404
    rows = {h["name"]: h for h in client.get("/api/v1/heartbeats", headers=admin).json()}
    url = rows["generated"]["ping_url"]
    assert url.startswith("https://tocsin.example/ping/")
    assert client.get(url.removeprefix("https://tocsin.example")).text == "OK"


def test_an_ack_link_confirms_on_get_and_acknowledges_only_on_post(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    path = ack_path(client, ingest, factory, clock)
    page = client.get(path)
    assert page.status_code == 200
    assert "Payments &lt;down&gt;" in page.text  # escaped
    assert alerts_in(factory)[0].state == "firing"  # a preview changes nothing
    done = client.post(path, data={"by": "ana"})
    assert done.status_code == 200
    assert (alerts_in(factory)[0].state, alerts_in(factory)[0].acknowledged_by) == (
        "acknowledged",
        "ana",
    )
    assert client.post(path).status_code == 409


def test_ack_links_refuse_tampered_expired_and_other_alerts(
    client: TestClient, clock: VirtualClock
) -> None:
    key = b"k" * 32
    token = acklinks.make_token(key, 7, clock.now() + timedelta(hours=1))
    assert acklinks.verify_token(key, token, clock.now(), alert_id=7) == 7
    with pytest.raises(acklinks.AckLinkError, match="altered"):
        acklinks.verify_token(key, token[:-2] + "AA", clock.now())
    with pytest.raises(acklinks.AckLinkError, match="expired"):
        acklinks.verify_token(key, token, clock.now() + timedelta(hours=2))
    with pytest.raises(acklinks.AckLinkError, match="for alert 7, not 8"):
        acklinks.verify_token(key, token, clock.now(), alert_id=8)
    page = client.get("/ack/" + token)  # signed with another key than the server's
    assert page.status_code == 400
    assert "not valid" in page.text
