"""Silences over HTTP: Alertmanager's API v2 shapes and update rules, the status
`GET /api/v2/alerts` gives muted alerts, and Tocsin's own `/api/v1/silences`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import run_noise
from tests.support.web import api_config, fire, make_token, z

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.noise.models import Silence
from tocsin.outbox.models import Notification
from tocsin.web.app import create_app
from tocsin.web.deps import Settings


def am_silence(clock: VirtualClock, hours: float = 1, **changes: Any) -> dict[str, Any]:
    now = clock.now()
    body = {
        "matchers": [{"name": "alertname", "value": "DiskFull", "isRegex": False}],
        "startsAt": z(now),
        "endsAt": z(now + timedelta(hours=hours)),
        "createdBy": "ana",
        "comment": "disk swap",
    }
    return body | changes


def silence_rows(factory: sessionmaker[Session]) -> int:
    with session_scope(factory) as s:
        return int(s.scalar(select(func.count()).select_from(Silence)) or 0)


def test_a_posted_silence_reads_back_in_alertmanagers_shape(
    client: TestClient, admin: dict[str, str], clock: VirtualClock
) -> None:
    body = am_silence(clock)
    body["matchers"].append({"name": "env", "value": "dev|test", "isRegex": True, "isEqual": False})
    posted = client.post("/api/v2/silences", json=body, headers=admin)
    assert posted.status_code == 200, posted.text
    sid = posted.json()["silenceID"]
    got = client.get(f"/api/v2/silence/{sid}", headers=admin).json()
    assert got == {
        "id": sid,
        "status": {"state": "active"},
        "updatedAt": clock.now().isoformat(),
        "matchers": [
            {"name": "alertname", "value": "DiskFull", "isRegex": False, "isEqual": True},
            {"name": "env", "value": "dev|test", "isRegex": True, "isEqual": False},
        ],
        "startsAt": clock.now().isoformat(),
        "endsAt": (clock.now() + timedelta(hours=1)).isoformat(),
        "createdBy": "ana",
        "comment": "disk swap",
    }
    assert client.get("/api/v2/silences", headers=admin).json() == [got]
    # and Tocsin's own listing shows it in Tocsin's matcher syntax
    (mine,) = client.get("/api/v1/silences", headers=admin).json()
    assert mine["matchers"] == ['alertname="DiskFull"', 'env!~"dev|test"']


def test_silences_list_in_alertmanagers_order_and_filter_by_their_matchers(
    client: TestClient, admin: dict[str, str], clock: VirtualClock
) -> None:
    now = clock.now()

    def post(name: str, starts: float, ends: float) -> str:
        body = am_silence(
            clock,
            matchers=[{"name": "alertname", "value": name, "isRegex": False}],
            startsAt=z(now + timedelta(hours=starts)),
            endsAt=z(now + timedelta(hours=ends)),
        )
        return str(client.post("/api/v2/silences", json=body, headers=admin).json()["silenceID"])

    long_, short, later, soon = post("A", 0, 5), post("B", 0, 2), post("C", 3, 4), post("D", 1, 4)
    clock.advance(timedelta(minutes=30))
    gone = post("E", 0, 1)
    assert client.delete(f"/api/v2/silence/{gone}", headers=admin).status_code == 200

    def ids(**params: Any) -> list[str]:
        answer = client.get("/api/v2/silences", params=params, headers=admin)
        assert answer.status_code == 200, answer.text
        return [s["id"] for s in answer.json()]

    assert ids() == [short, long_, soon, later, gone]
    assert ids(filter='alertname=~"A|C"') == [long_, later]
    assert ids(filter=["alertname!=A", 'alertname=~"[A-D]"']) == [short, soon, later]
    assert ids(filter='team=""') == ids()  # a filter with an empty value passes where unset
    bad = client.get("/api/v2/silences", params={"filter": "alertname=~("}, headers=admin)
    assert bad.status_code == 400
    assert "bad regular expression" in bad.json()


def test_bad_silences_are_refused_and_nothing_is_stored(
    client: TestClient, admin: dict[str, str], clock: VirtualClock, factory: sessionmaker[Session]
) -> None:
    now = clock.now()
    cases = {
        "end time can't be in the past": am_silence(clock, endsAt=z(now - timedelta(minutes=1))),
        "start time must be before end time": am_silence(
            clock, startsAt=z(now + timedelta(hours=2))
        ),
        "bad regular expression": am_silence(
            clock, matchers=[{"name": "job", "value": "(", "isRegex": True}]
        ),
        "would mute all": am_silence(
            clock, matchers=[{"name": "job", "value": ".*", "isRegex": True}]
        ),
        "needs a comment": am_silence(clock, comment="  "),
        "100 years": am_silence(clock, hours=24 * 365 * 101),
        "expected name=value": am_silence(
            clock, matchers=[{"name": "bad name", "value": "x", "isRegex": False}]
        ),
    }
    for message, body in cases.items():
        answer = client.post("/api/v2/silences", json=body, headers=admin)
        assert answer.status_code == 400, (message, answer.text)
        assert message in answer.json()  # a JSON string, as Alertmanager answers
    for body in (
        {k: v for k, v in am_silence(clock).items() if k != "endsAt"},
        am_silence(clock, matchers=[]),
        am_silence(clock, startsAt="2026-11-17T14:00:00"),  # no offset
    ):
        answer = client.post("/api/v2/silences", json=body, headers=admin)
        assert answer.status_code == 422
        # go-openapi's shape, as Alertmanager answers before its handler runs
        assert set(answer.json()) == {"code", "message"}
        assert answer.json()["code"] in (601, 602, 612)
    missing = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert client.get(f"/api/v2/silence/{missing}", headers=admin).status_code == 404
    assert client.delete(f"/api/v2/silence/{missing}", headers=admin).status_code == 404
    not_uuid = client.get("/api/v2/silence/not-a-uuid", headers=admin)
    assert (not_uuid.status_code, not_uuid.json()["code"]) == (422, 601)
    assert "silence_id" in not_uuid.json()["message"]
    with_id = am_silence(clock, id=missing)
    assert client.post("/api/v2/silences", json=with_id, headers=admin).status_code == 404
    assert silence_rows(factory) == 0


def test_an_update_keeps_the_id_when_alertmanager_would_and_replaces_it_otherwise(
    client: TestClient, admin: dict[str, str], clock: VirtualClock
) -> None:
    first = am_silence(clock, hours=2)
    sid = client.post("/api/v2/silences", json=first, headers=admin).json()["silenceID"]
    clock.advance(timedelta(minutes=10))
    # active, same matchers and start, new end and comment: changed in place
    longer = first | {"id": sid, "endsAt": z(clock.now() + timedelta(hours=5)), "comment": "more"}
    assert client.post("/api/v2/silences", json=longer, headers=admin).json() == {"silenceID": sid}
    got = client.get(f"/api/v2/silence/{sid}", headers=admin).json()
    assert (got["comment"], got["updatedAt"]) == ("more", clock.now().isoformat())
    # new matchers: the old one expires now and a new id replaces it
    other = longer | {"matchers": [{"name": "alertname", "value": "Other", "isRegex": False}]}
    new = client.post("/api/v2/silences", json=other, headers=admin).json()["silenceID"]
    assert new != sid
    old = client.get(f"/api/v2/silence/{sid}", headers=admin).json()
    assert (old["status"]["state"], old["endsAt"]) == ("expired", clock.now().isoformat())
    replaced = client.get(f"/api/v2/silence/{new}", headers=admin).json()
    assert replaced["status"]["state"] == "active"
    assert replaced["startsAt"] == clock.now().isoformat()  # not back-dated
    # an expired silence is never revived: posting it again makes a new one
    again = client.post("/api/v2/silences", json=longer, headers=admin).json()["silenceID"]
    assert again not in (sid, new)
    assert client.get(f"/api/v2/silence/{sid}", headers=admin).json()["status"] == {
        "state": "expired"
    }
    assert client.delete(f"/api/v2/silence/{sid}", headers=admin).status_code == 200  # as AM


def test_a_pending_silence_moves_in_place_and_expiring_it_means_it_never_starts(
    client: TestClient, admin: dict[str, str], clock: VirtualClock
) -> None:
    now = clock.now()
    ahead = am_silence(
        clock, startsAt=z(now + timedelta(hours=1)), endsAt=z(now + timedelta(hours=2))
    )
    sid = client.post("/api/v2/silences", json=ahead, headers=admin).json()["silenceID"]
    assert client.get(f"/api/v2/silence/{sid}", headers=admin).json()["status"]["state"] == (
        "pending"
    )
    moved = ahead | {
        "id": sid,
        "startsAt": z(now + timedelta(hours=3)),
        "endsAt": z(now + timedelta(hours=4)),
    }
    assert client.post("/api/v2/silences", json=moved, headers=admin).json() == {"silenceID": sid}
    assert client.delete(f"/api/v2/silence/{sid}", headers=admin).status_code == 200
    got = client.get(f"/api/v2/silence/{sid}", headers=admin).json()
    assert (got["status"]["state"], got["startsAt"], got["endsAt"]) == (
        "expired",
        now.isoformat(),
        now.isoformat(),
    )


def test_alerts_a_silence_mutes_are_suppressed_until_it_is_expired(
    client: TestClient,
    admin: dict[str, str],
    ingest: dict[str, str],
    clock: VirtualClock,
) -> None:
    sid = client.post("/api/v2/silences", json=am_silence(clock), headers=admin).json()["silenceID"]
    fire(client, ingest, clock)
    fire(client, ingest, clock, alertname="CpuHigh")

    def shown(**params: Any) -> list[tuple[str, dict[str, Any]]]:
        answer = client.get("/api/v2/alerts", params=params, headers=admin)
        assert answer.status_code == 200, answer.text
        return [(a["labels"]["alertname"], a["status"]) for a in answer.json()]

    muted = {"state": "suppressed", "silencedBy": [sid], "inhibitedBy": [], "mutedBy": []}
    unmuted = {"state": "active", "silencedBy": [], "inhibitedBy": [], "mutedBy": []}
    assert shown() == [("DiskFull", muted), ("CpuHigh", unmuted)]
    # amtool's default query, and its --silenced one
    flags = {"active": "true", "silenced": "false", "inhibited": "false"}
    assert shown(**flags) == [("CpuHigh", unmuted)]
    assert shown(active="false", silenced="true") == [("DiskFull", muted)]
    assert shown(filter='alertname="CpuHigh"') == [("CpuHigh", unmuted)]
    assert client.get("/api/v2/alerts", params={"filter": "=x"}, headers=admin).status_code == 400
    assert client.delete(f"/api/v2/silence/{sid}", headers=admin).status_code == 200
    assert shown(**flags) == [("DiskFull", unmuted), ("CpuHigh", unmuted)]
    # Expiring it again is a 200 that changes nothing, as Alertmanager answers.
    ended = client.get(f"/api/v2/silence/{sid}", headers=admin).json()
    clock.advance(timedelta(minutes=1))
    assert client.delete(f"/api/v2/silence/{sid}", headers=admin).status_code == 200
    assert client.get(f"/api/v2/silence/{sid}", headers=admin).json() == ended


def test_an_inhibited_alert_names_its_inhibitor_by_fingerprint(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = api_config(
        """
inhibit_rules:
  - source_matchers: ['alertname="DatacenterDown"']
    target_matchers: ['alertname!="DatacenterDown"']
    equal: [dc]
"""
    )
    token = make_token(factory, clock, "ops", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(Settings(config, factory, clock))) as client:
        fire(client, headers, clock, alertname="DatacenterDown", dc="eu")
        fire(client, headers, clock, dc="eu")
        source, target = client.get("/api/v2/alerts", headers=headers).json()
    assert target["status"] == {
        "state": "suppressed",
        "silencedBy": [],
        "inhibitedBy": [source["fingerprint"]],
        "mutedBy": [],
    }
    assert source["status"]["state"] == "active"


def test_operators_add_list_and_expire_silences_with_tocsins_syntax(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    writer = {"Authorization": "Bearer " + make_token(factory, clock, "ana", "write")}
    reader = {"Authorization": "Bearer " + make_token(factory, clock, "bob", "read")}
    body = {"matchers": ['{service="payments", env=~"prod|eu"}'], "for": "2h", "comment": "deploy"}
    made = client.post("/api/v1/silences", json=body, headers=writer)
    assert made.status_code == 201, made.text
    silence = made.json()
    assert silence["matchers"] == ['service="payments"', 'env=~"prod|eu"']
    assert (silence["created_by"], silence["status"]) == ("ana", "active")
    assert silence["ends_at"] == (clock.now() + timedelta(hours=2)).isoformat().replace(
        "+00:00", "Z"
    )
    weekly = {
        "matchers": ["check=backup"],
        "every": "0 2 * * sun",
        "duration": "2h",
        "timezone": "Europe/Paris",
        "comment": "weekly backup",
        "created_by": "ops",
    }
    recurring = client.post("/api/v1/silences", json=weekly, headers=writer).json()
    assert (recurring["status"], recurring["every"], recurring["duration_seconds"]) == (
        "pending",
        "0 2 * * sun",
        7200,
    )
    assert client.post("/api/v1/silences", json=body, headers=reader).status_code == 403
    listed = client.get("/api/v1/silences", headers=reader).json()
    assert {s["id"] for s in listed} == {silence["id"], recurring["id"]}
    gone = client.delete(f"/api/v1/silences/{silence['id']}", headers=writer)
    assert gone.json()["status"] == "expired"
    assert client.delete(f"/api/v1/silences/{silence['id']}", headers=writer).status_code == 409
    assert client.delete("/api/v1/silences/nope", headers=writer).status_code == 404
    assert client.delete("/api/v1/silences/a%00b", headers=writer).status_code == 400
    assert len(client.get("/api/v1/silences", headers=reader).json()) == 1
    assert len(client.get("/api/v1/silences?all=true", headers=reader).json()) == 2


BAD_SILENCES: list[tuple[dict[str, Any], int, str]] = [
    ({"matchers": ['service="x']}, 400, "unterminated"),
    ({"matchers": ["env=~'('"]}, 400, "bad regular expression"),
    ({"matchers": []}, 400, "matchers"),
    ({"for": None, "ends_at": "2026-11-17T13:00:00Z"}, 400, "must be after the start"),
    (
        {"for": None, "starts_at": "2026-11-17T12:00:00Z", "ends_at": "2026-11-17T13:00:00Z"},
        400,
        "in the past",
    ),
    ({"for": None, "ends_at": "2026-11-17T18:00:00"}, 400, "timezone"),
    ({"ends_at": "2026-11-17T18:00:00Z"}, 400, "not both"),
    ({"for": "soon"}, 400, "not a duration"),
    ({"for": "-1h"}, 400, "not a duration"),
    ({"for": "99999999999999d"}, 400, "too long"),
    ({"for": "7000w"}, 400, "100 years"),
    ({"starts_at": "9999-12-31T23:00:00Z"}, 400, "too far"),
    ({"every": "0 2 * * sun"}, 400, "every and duration go together"),
    ({"every": "not cron", "duration": "1h"}, 400, "not a valid cron"),
    ({"every": "0 2 * * *", "duration": "1h", "timezone": "Mars/Base"}, 400, "time zone"),
    ({"comment": ""}, 400, "comment"),
    ({"by": "x"}, 400, "by"),
    ({"comment": "a\x00b"}, 400, "comment"),  # PostgreSQL's text cannot hold NUL
]


def test_bad_operator_silences_are_refused_and_change_nothing(
    client: TestClient, admin: dict[str, str], factory: sessionmaker[Session]
) -> None:
    for change, status, says in BAD_SILENCES:
        body = {"matchers": ['service="payments"'], "for": "2h", "comment": "deploy"} | change
        answer = client.post("/api/v1/silences", json=body, headers=admin)
        assert answer.status_code == status, (change, answer.text)
        assert says in answer.json()["message"], (change, answer.text)
    assert silence_rows(factory) == 0


def test_an_alert_firing_before_its_silence_is_suppressed_at_once_and_active_once_expired(
    client: TestClient,
    settings: Settings,
    admin: dict[str, str],
    ingest: dict[str, str],
    clock: VirtualClock,
) -> None:
    fire(client, ingest, clock)

    def noise_step() -> int:
        with session_scope(settings.factory) as s:
            return run_noise(s, settings.pipeline, clock.now())

    def status() -> dict[str, Any]:
        (alert,) = client.get("/api/v2/alerts", headers=admin).json()
        return dict(alert["status"])

    def told() -> int:
        with session_scope(settings.factory) as s:
            return int(s.scalar(select(func.count()).select_from(Notification)) or 0)

    assert told() == 1
    sid = client.post("/api/v2/silences", json=am_silence(clock), headers=admin).json()["silenceID"]
    muted = {"state": "suppressed", "silencedBy": [sid], "inhibitedBy": [], "mutedBy": []}
    assert status() == muted  # before any worker step, as Alertmanager answers
    assert noise_step() == 1  # the worker records it: nothing more is sent while silenced
    assert status() == muted
    clock.advance(timedelta(minutes=1))
    fire(client, ingest, clock)  # Prometheus re-sends it every cycle
    assert told() == 1
    assert client.delete(f"/api/v2/silence/{sid}", headers=admin).status_code == 200
    assert status()["state"] == "active"
    assert noise_step() == 1
    assert told() == 2  # still firing when the silence ended: told again
