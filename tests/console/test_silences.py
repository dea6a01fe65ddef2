"""Silences from the console: the preview of what matchers would mute, create, extend,
expire, and bad input named beside its field."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import csrf_in, open_alert, sign_in

from tocsin.clock import VirtualClock
from tocsin.console import audit
from tocsin.db import session_scope
from tocsin.noise.models import Silence
from tocsin.web.deps import Settings


def silences_in(factory: sessionmaker[Session]) -> list[Silence]:
    with session_scope(factory) as s:
        return list(s.query(Silence).order_by(Silence.created_at).all())


def test_the_preview_lists_the_open_alerts_the_matchers_would_mute(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    open_alert(factory, clock, settings.config, "a", title="DB slow", service="db")
    open_alert(factory, clock, settings.config, "b", title="Web slow", service="web")
    assert sign_in(client, "bo") == 303
    fragment = client.get("/silences/preview", params={"matchers": 'service="db"'})
    assert fragment.status_code == 200
    assert "<strong>1</strong> open alert(s) would be muted" in fragment.text
    assert "DB slow" in fragment.text
    assert "Web slow" not in fragment.text
    page = client.get("/silences", params={"matchers": 'service=~"db|web"'})
    assert "<strong>2</strong> open alert(s)" in page.text
    bad = client.get("/silences/preview", params={"matchers": "no operator"})
    assert bad.status_code == 400


def test_a_responder_creates_extends_and_expires_a_silence(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    assert sign_in(client, "bo") == 303
    token = csrf_in(client.get("/silences").text)
    body = {
        "csrf": token,
        "matchers": 'service="db"\nenv="prod"',
        "for": "2h",
        "comment": "migration",
    }
    assert client.post("/silences", data=body, follow_redirects=False).status_code == 303
    (made,) = silences_in(factory)
    assert made.matchers == ['service="db"', 'env="prod"']
    assert made.ends_at == clock.now() + timedelta(hours=2)
    assert made.created_by == "bo"
    answer = client.post(f"/silences/{made.id}/extend", data={"csrf": token, "for": "1h"})
    assert answer.status_code == 200
    (extended,) = [s for s in silences_in(factory) if s.id == made.id]
    assert extended.ends_at == clock.now() + timedelta(hours=3)
    answer = client.post(f"/silences/{made.id}/expire", data={"csrf": token})
    assert answer.status_code == 200
    assert silences_in(factory)[0].ends_at == clock.now()
    assert client.post(f"/silences/{made.id}/expire", data={"csrf": token}).status_code == 409
    with session_scope(factory) as s:
        done = [r.action for r in reversed(audit.list_(s)) if r.action.startswith("silence.")]
    assert done == ["silence.create", "silence.extend", "silence.expire"]


def test_bad_silence_forms_name_the_field_and_write_nothing(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    assert sign_in(client, "bo") == 303
    token = csrf_in(client.get("/silences").text)
    for body, message in [
        ({"matchers": "", "for": "2h", "comment": "x"}, "matchers: required"),
        ({"matchers": 'a=~"("', "for": "2h", "comment": "x"}, "bad regular expression"),
        ({"matchers": 'a="b"', "for": "soon", "comment": "x"}, "for:"),
        ({"matchers": 'a="b"', "for": "500d", "comment": "x"}, "for: between 1m and 366d"),
        ({"matchers": 'a="b"', "for": "2h", "comment": ""}, "comment: required"),
        ({"matchers": 'a=~".*"', "for": "2h", "comment": "x"}, "would mute all"),
    ]:
        answer = client.post("/silences", data={"csrf": token, **body})
        assert answer.status_code == 400, body
        assert message in answer.text, body
    assert silences_in(factory) == []


def test_a_viewer_cannot_create_a_silence(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    assert sign_in(client, "cy") == 303
    page = client.get("/silences").text
    assert "Create silence" not in page
    body = {"csrf": csrf_in(page), "matchers": 'a="b"', "for": "1h", "comment": "x"}
    assert client.post("/silences", data=body).status_code == 403
    assert silences_in(factory) == []
