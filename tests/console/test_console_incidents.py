"""The console's incidents: list, declare, the page, post an update and change the status,
through the one door, with audit rows; bad forms named beside the field, nothing written."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import csrf_in, open_alert, sign_in

from tocsin import actions
from tocsin.clock import VirtualClock
from tocsin.console import audit
from tocsin.db import session_scope
from tocsin.incidents import followups
from tocsin.incidents import service as incidents
from tocsin.incidents.models import IncidentUpdate
from tocsin.web.deps import Settings


def declare(factory: sessionmaker[Session], settings: Settings, clock: VirtualClock) -> str:
    alert_id = open_alert(factory, clock, settings.config, "inc", service="pay")
    new = actions.incidents.NewIncident(title="Payments <b>fail</b>", severity="SEV-2")
    with session_scope(factory) as s:
        made = actions.incidents.declare(
            s, settings.pipeline, new, "ana", clock.now(), alert_ids=[alert_id]
        )
        return made.id


def test_a_viewer_reads_incidents_and_cannot_change_them(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    incident_id = declare(factory, settings, clock)
    assert sign_in(client, "cy") == 303
    listing = client.get("/incidents").text
    assert f'href="/incidents/{incident_id}"' in listing
    assert "Payments &lt;b&gt;fail&lt;/b&gt;" in listing
    assert "Declare an incident" not in listing
    page = client.get(f"/incidents/{incident_id}").text
    assert "Alert inc" in page  # the linked alert
    assert "Post an update" not in page
    body = {"csrf": csrf_in(page), "message": "looking"}
    answer = client.post(f"/incidents/{incident_id}/update", data=body)
    assert answer.status_code == 403
    assert client.get("/incidents?status=closed").text.count("/incidents/INC-") == 0
    assert client.get("/incidents?status=bogus").status_code == 400
    assert client.get("/incidents/INC-2020-01-01-001").status_code == 404
    assert client.get("/incidents/nope").status_code == 404


def test_a_responder_posts_an_update_and_moves_the_status(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    incident_id = declare(factory, settings, clock)
    assert sign_in(client, "bo") == 303
    page = client.get(f"/incidents/{incident_id}").text
    token = csrf_in(page)
    body = {"csrf": token, "message": "Card payments fail; rolling back", "status": "identified"}
    answer = client.post(f"/incidents/{incident_id}/update", data=body, follow_redirects=False)
    assert answer.status_code == 303
    body = {"csrf": token, "status": "mitigating", "note": "rollback running"}
    answer = client.post(f"/incidents/{incident_id}/status", data=body, follow_redirects=False)
    assert answer.status_code == 303
    page = client.get(f"/incidents/{incident_id}").text
    assert "Card payments fail; rolling back" in page
    assert "rollback running" in page
    with session_scope(factory) as s:
        assert incidents.get(s, incident_id).status == "mitigating"
        rows = [(r.actor, r.action, r.interface) for r in audit.list_(s)]
    assert ("bo", "incident.update", "console") in rows
    assert ("bo", "incident.status", "console") in rows


def test_bad_incident_forms_are_named_and_change_nothing(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    incident_id = declare(factory, settings, clock)
    assert sign_in(client, "bo") == 303
    token = csrf_in(client.get(f"/incidents/{incident_id}").text)
    path = f"/incidents/{incident_id}"
    answer = client.post(f"{path}/update", data={"csrf": token, "message": ""})
    assert answer.status_code == 400
    assert "message: required" in answer.text
    answer = client.post(f"{path}/update", data={"csrf": token, "message": "x", "status": "gone"})
    assert answer.status_code == 400
    assert "status: one of" in answer.text
    answer = client.post(f"{path}/status", data={"csrf": token, "status": "closed"})
    assert answer.status_code == 409  # investigating cannot skip resolved
    assert re.search(r'class="error" role="alert">[^<]*closed', answer.text)
    answer = client.post(f"{path}/update", data={"message": "no token"})
    assert answer.status_code == 403
    answer = client.post("/incidents", data={"csrf": token, "title": "", "severity": "SEV-1"})
    assert answer.status_code == 400
    assert "title: required" in answer.text
    answer = client.post("/incidents", data={"csrf": token, "title": "t", "severity": "SEV-9"})
    assert answer.status_code == 400
    assert "severity:" in answer.text
    with session_scope(factory) as s:
        assert incidents.get(s, incident_id).status == "investigating"
        assert s.query(IncidentUpdate).count() == 0
        assert len(incidents.list_(s)) == 1


def test_a_responder_declares_an_incident(client: TestClient) -> None:
    assert sign_in(client, "bo") == 303
    token = csrf_in(client.get("/incidents").text)
    body = {"csrf": token, "title": "Checkout slow", "severity": "SEV-3", "services": "web, db"}
    answer = client.post("/incidents", data=body, follow_redirects=False)
    assert answer.status_code == 303
    page = client.get(answer.headers["location"]).text
    assert "Checkout slow" in page
    assert "web, db" in page


def test_a_resolved_incident_shows_its_postmortem_draft_and_action_items(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    incident_id = declare(factory, settings, clock)
    with session_scope(factory) as s:
        followups.add_action(
            s,
            settings.pipeline,
            incident_id,
            "Alert on <card> provider latency",
            "bo",
            clock.now() + timedelta(days=7),
            "ana",
            clock.now(),
        )
    assert sign_in(client, "bo") == 303
    token = csrf_in(client.get(f"/incidents/{incident_id}").text)
    body = {"csrf": token, "status": "resolved", "note": "provider back"}
    assert client.post(f"/incidents/{incident_id}/status", data=body).status_code == 200
    page = client.get(f"/incidents/{incident_id}").text
    assert "Post-mortem draft" in page
    assert '<pre class="postmortem">' in page
    assert "Alert on &lt;card&gt; provider latency" in page
