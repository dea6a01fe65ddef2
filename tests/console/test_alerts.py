"""The alerts list and detail, and acknowledging/resolving from them (through the one door)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import csrf_in, open_alert, sign_in

from tocsin import actions
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.clock import VirtualClock
from tocsin.console import audit
from tocsin.db import session_scope
from tocsin.noise.models import MutedAlert
from tocsin.web.deps import Settings


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/alerts/(\d+)"', html)]


def state_of(factory: sessionmaker[Session], alert_id: int) -> tuple[str, str | None]:
    with session_scope(factory) as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None
        return alert.state, alert.acknowledged_by


def test_the_list_shows_open_alerts_newest_first_and_filters_them(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = settings.config
    a = open_alert(factory, clock, config, "a", severity="CRITICAL", service="db", host="db1")
    b = open_alert(factory, clock, config, "b", severity="WARNING", service="web")
    c = open_alert(factory, clock, config, "c", severity="CRITICAL", service="web")
    with session_scope(factory) as s:
        actions.alerts.resolve(s, settings.pipeline, c, "ana", clock.now())
    assert sign_in(client, "cy") == 303
    assert ids_on(client.get("/alerts").text) == [b, a]
    assert ids_on(client.get("/alerts?state=resolved").text) == [c]
    assert ids_on(client.get("/alerts?state=all&severity=critical").text) == [c, a]
    assert ids_on(client.get("/alerts?service=web").text) == [b]
    assert ids_on(client.get("/alerts?label=host%3Ddb1").text) == [a]
    assert ids_on(client.get("/alerts?label=host%3Ddb2").text) == []


def test_a_bad_filter_is_a_400_naming_it(client: TestClient) -> None:
    assert sign_in(client, "cy") == 303
    for query, name in [
        ("state=sleeping", "state:"),
        ("severity=LOUD", "severity:"),
        ("label=nolabel", "label:"),
        ("before=x", "before:"),
    ]:
        answer = client.get(f"/alerts?{query}")
        assert answer.status_code == 400
        assert name in answer.text


def test_muted_alerts_are_shown_as_muted(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert_id = open_alert(factory, clock, settings.config, "m")
    with session_scope(factory) as s:
        s.add(
            MutedAlert(
                alert_id=alert_id,
                event_id=1,
                kind="silence",
                ref="1",
                since=clock.now(),
                data={"reason": "deploy of the billing service"},
            )
        )
    assert sign_in(client, "cy") == 303
    assert "muted: deploy of the billing service" in client.get("/alerts").text


def test_pages_continue_after_the_last_alert_shown(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    made = [open_alert(factory, clock, settings.config, f"k{i}") for i in range(120)]
    assert sign_in(client, "cy") == 303
    seen: list[int] = []
    url = "/alerts"
    while url:
        html = client.get(url).text
        seen += ids_on(html)
        found = re.search(r'rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert seen == sorted(made, reverse=True)


def test_a_responder_acknowledges_several_alerts_at_once(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    ids = [open_alert(factory, clock, settings.config, k) for k in ("x", "y", "z")]
    with session_scope(factory) as s:
        actions.alerts.acknowledge(s, settings.pipeline, ids[2], "ana", clock.now())
    assert sign_in(client, "bo") == 303
    token = csrf_in(client.get("/alerts").text)
    body = {"csrf": token, "action": "ack", "ids": [str(i) for i in ids], "back": "state=open"}
    answer = client.post("/alerts/act", data=body, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("done=2&skipped=1")
    assert state_of(factory, ids[0]) == ("acknowledged", "bo")
    assert state_of(factory, ids[1]) == ("acknowledged", "bo")
    assert "2 alert(s) changed; 1 skipped" in client.get(answer.headers["location"]).text
    with session_scope(factory) as s:
        rows = [(r.actor, r.action, r.target) for r in audit.list_(s, action="alert.ack")]
        kinds = s.scalars(
            select(AlertEvent.kind).where(AlertEvent.alert_id == ids[0]).order_by(AlertEvent.id)
        ).all()
    assert sorted(rows) == [
        ("bo", "alert.ack", f"alert {ids[0]}"),
        ("bo", "alert.ack", f"alert {ids[1]}"),
    ]
    assert list(kinds) == ["fired", "acknowledged"]


def test_a_viewer_cannot_acknowledge(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert_id = open_alert(factory, clock, settings.config, "v")
    assert sign_in(client, "cy") == 303
    page = client.get("/alerts").text
    assert "Acknowledge selected" not in page
    body = {"csrf": csrf_in(page), "action": "ack", "ids": [str(alert_id)]}
    answer = client.post("/alerts/act", data=body)
    assert answer.status_code == 403
    assert "cy is a viewer; this needs the responder role" in answer.text
    answer = client.post(f"/alerts/{alert_id}/ack", data={"csrf": csrf_in(page)})
    assert answer.status_code == 403
    assert state_of(factory, alert_id) == ("firing", None)


def test_bad_action_forms_are_refused_and_change_nothing(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert_id = open_alert(factory, clock, settings.config, "w")
    assert sign_in(client, "bo") == 303
    token = csrf_in(client.get("/alerts").text)
    for body, message in [
        ({"action": "delete", "ids": str(alert_id)}, "action:"),
        ({"action": "ack"}, "ids:"),
        ({"action": "ack", "ids": "1x"}, "ids:"),
    ]:
        answer = client.post("/alerts/act", data={"csrf": token, **body})
        assert answer.status_code == 400
        assert message in answer.text
    answer = client.post(f"/alerts/{alert_id}/ack", data={"csrf": token, "note": "n" * 2001})
    assert answer.status_code == 400
    assert "note: at most 2000 characters" in answer.text
    assert client.post("/alerts/999999/ack", data={"csrf": token}).status_code == 404
    assert state_of(factory, alert_id) == ("firing", None)


def test_the_detail_shows_the_alert_and_resolves_it_with_a_note(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert_id = open_alert(
        factory, clock, settings.config, "d", runbook="provider-failure", service="pay"
    )
    assert sign_in(client, "bo") == 303
    page = client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    assert "service=pay" in page.text
    assert 'href="/runbooks/provider-failure"' in page.text
    assert "fired" in page.text
    answer = client.post(
        f"/alerts/{alert_id}/resolve",
        data={"csrf": csrf_in(page.text), "note": "restarted the worker"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert state_of(factory, alert_id)[0] == "resolved"
    again = client.get(f"/alerts/{alert_id}").text
    assert "restarted the worker" in again
    answer = client.post(f"/alerts/{alert_id}/resolve", data={"csrf": csrf_in(again)})
    assert answer.status_code == 409
    assert client.get("/alerts/424242").status_code == 404


def test_titles_labels_and_runbooks_are_escaped(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert_id = open_alert(
        factory,
        clock,
        settings.config,
        "<script>alert(1)</script>",
        title='<script>alert("title")</script>',
        runbook="javascript:alert(1)",
        team='"><img src=x onerror=alert(2)>',
    )
    assert sign_in(client, "cy") == 303
    for html in (client.get("/alerts").text, client.get(f"/alerts/{alert_id}").text):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html
    detail = client.get(f"/alerts/{alert_id}").text
    assert 'href="javascript:' not in detail
    assert "javascript:alert(1)" in detail  # shown as text, not as a link


def test_the_detail_shows_the_newest_events_and_pages_to_older_ones(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert_id = open_alert(factory, clock, settings.config, "long")
    with session_scope(factory) as s:
        for i in range(1, 250):  # 'fired' is event 1, these are notes 1..249
            s.add(AlertEvent(alert_id=alert_id, at=clock.now(), kind="note", note=f"n{i}."))
    assert sign_in(client, "cy") == 303
    seen: list[str] = []
    url = f"/alerts/{alert_id}"
    while url:
        html = client.get(url).text
        notes = re.findall(r"<td>n(\d+)\.</td>", html)
        assert len(notes) <= 100
        seen = notes + seen
        found = re.search(r'rel="next" href="([^"]+)"', html)
        url = found.group(1).split("#")[0] if found else ""
    first = client.get(f"/alerts/{alert_id}").text
    assert "The newest 100 of 250 events" in first
    assert seen == [str(i) for i in range(1, 250)]
    assert client.get(f"/alerts/{alert_id}?older=x").status_code == 422


def test_silence_selected_opens_the_silence_form_with_the_labels_they_share(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = settings.config
    a = open_alert(factory, clock, config, "s1", service="db", env="prod")
    b = open_alert(factory, clock, config, "s2", service="db", env="prod", host="h2")
    c = open_alert(factory, clock, config, "s3", service="web")
    assert sign_in(client, "bo") == 303
    token = csrf_in(client.get("/alerts").text)
    body = {"csrf": token, "action": "silence", "ids": [str(a), str(b)]}
    answer = client.post("/alerts/act", data=body, follow_redirects=False)
    assert answer.status_code == 303
    form = client.get(answer.headers["location"]).text
    assert "env=&#34;prod&#34;\nservice=&#34;db&#34;</textarea>" in form
    assert ids_on(form.split("would be muted")[1]) == [b, a]
    body = {"csrf": token, "action": "silence", "ids": [str(a), str(c)]}
    answer = client.post("/alerts/act", data=body, follow_redirects=False)
    assert answer.status_code == 400
    assert "share no label" in answer.text
