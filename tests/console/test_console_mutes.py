"""The console's maintenance windows and known issues: the preview of the open alerts they
would mute, create, extend, end/expire, audit rows; bad forms named, nothing written."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import csrf_in, open_alert, sign_in

from tocsin.clock import VirtualClock
from tocsin.console import audit
from tocsin.db import session_scope
from tocsin.noise import known_issues, maintenance
from tocsin.web.deps import Settings


def test_a_window_previews_what_it_mutes_and_is_created_extended_and_ended(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    open_alert(factory, clock, settings.config, "db", title="DB slow", service="db")
    open_alert(factory, clock, settings.config, "web", title="Web errors", service="web")
    assert sign_in(client, "bo") == 303
    shown = client.get("/maintenance?services=db&title=x").text
    assert "1</strong> open alert(s) would be muted" in shown
    assert "DB slow" in shown
    assert "Web errors" not in shown.split("Active and planned")[0]
    fragment = client.get("/maintenance/preview?services=db,web").text
    assert "2</strong> open alert(s)" in fragment
    token = csrf_in(shown)
    body = {"csrf": token, "title": "DB upgrade", "services": "db", "start": "now", "for": "2h"}
    assert client.post("/maintenance", data=body, follow_redirects=False).status_code == 303
    with session_scope(factory) as s:
        (window,) = maintenance.list_windows(s, clock.now())
        window_id, ends = window.id, window.ends_at
    path = f"/maintenance/{window_id}"
    answer = client.post(f"{path}/extend", data={"csrf": token, "for": "30m"})
    assert answer.status_code == 200  # followed to the list
    answer = client.post(f"{path}/end", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert client.post(f"{path}/end", data={"csrf": token}).status_code == 409
    with session_scope(factory) as s:
        assert maintenance.list_windows(s, clock.now()) == []
        rows = [r.action for r in audit.list_(s, actor="bo")]
        detail = [r.detail for r in audit.list_(s, action="maintenance.create")]
    assert {"maintenance.create", "maintenance.extend", "maintenance.end"} <= set(rows)
    assert detail[0]["ends_at"] == ends.isoformat()


def test_a_known_issue_previews_what_it_suppresses_and_is_created_and_expired(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    open_alert(factory, clock, settings.config, "p1", title="Printer jammed", service="printer")
    open_alert(
        factory, clock, settings.config, "p2", title="Printer out of toner", service="printer"
    )
    assert sign_in(client, "bo") == 303
    fragment = client.get("/known-issues/preview?matchers=service%3D%22printer%22&contains=jam")
    assert "1</strong> open alert(s)" in fragment.text
    assert "Printer jammed" in fragment.text
    bad = client.get("/known-issues/preview?matchers=%7Bservice")
    assert bad.status_code == 400
    token = csrf_in(client.get("/known-issues").text)
    body = {
        "csrf": token,
        "id": "PRINT-1",
        "matchers": 'service="printer"',
        "contains": "",
        "reason": "the vendor replaces it Friday",
        "for": "3d",
    }
    assert client.post("/known-issues", data=body, follow_redirects=False).status_code == 303
    again = client.post("/known-issues", data=body)
    assert again.status_code == 409
    assert "id: known issue PRINT-1 exists until" in again.text
    answer = client.post("/known-issues/PRINT-1/extend", data={"csrf": token, "for": "1d"})
    assert answer.status_code == 200
    with session_scope(factory) as s:
        issue = known_issues.get_known_issue(s, "PRINT-1")
        assert issue.expires_at == clock.now() + timedelta(days=4)
        assert issue.created_by == "bo"
    answer = client.post("/known-issues/PRINT-1/expire", data={"csrf": token})
    assert answer.status_code == 200
    assert client.post("/known-issues/nope/expire", data={"csrf": token}).status_code == 404
    with session_scope(factory) as s:
        assert known_issues.list_known_issues(s, clock.now()) == []
        rows = {r.action for r in audit.list_(s, actor="bo")}
    assert {"known_issue.create", "known_issue.extend", "known_issue.expire"} <= rows


def test_bad_forms_are_named_beside_their_field_and_change_nothing(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    assert sign_in(client, "bo") == 303
    token = csrf_in(client.get("/maintenance").text)
    for body, message in [
        ({"title": "", "services": "db", "for": "1h"}, "title: required"),
        ({"title": "t", "services": " , ", "for": "1h"}, "services: at least one"),
        ({"title": "t", "services": "db", "for": "ever"}, "for:"),
        ({"title": "t", "services": "db", "for": "1h", "start": "soon"}, "start: &#39;soon&#39;"),
    ]:
        answer = client.post("/maintenance", data={"csrf": token, **body})
        assert answer.status_code == 400, body
        assert message in answer.text, body
    for body, message in [
        ({"id": "bad id", "matchers": "a=b", "reason": "r", "for": "1d"}, "id: letters"),
        ({"id": "K", "reason": "r", "for": "1d"}, "matchers: give matchers"),
        ({"id": "K", "matchers": "{a", "reason": "r", "for": "1d"}, "matchers:"),
        ({"id": "K", "matchers": "a=b", "reason": "", "for": "1d"}, "reason: required"),
    ]:
        answer = client.post("/known-issues", data={"csrf": token, **body})
        assert answer.status_code == 400, body
        assert message in answer.text, body
    assert client.post("/maintenance/x/extend", data={"csrf": token}).status_code == 404
    assert client.post("/maintenance/x/delete", data={"csrf": token}).status_code == 404
    assert sign_in(client, "cy") == 303
    viewer = client.get("/maintenance").text
    assert "New window" not in viewer
    body = {"csrf": csrf_in(viewer), "title": "t", "services": "db", "for": "1h"}
    assert client.post("/maintenance", data=body).status_code == 403
    with session_scope(factory) as s:
        assert maintenance.list_windows(s, clock.now()) == []
        assert known_issues.list_known_issues(s, clock.now()) == []
