"""The console's on call: now and the next 14 days per schedule, taking or handing over a
shift (an override, an audit row), bad forms refused, and the iCalendar file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import console_config, csrf_in, give_passwords, sign_in

from tocsin.clock import VirtualClock
from tocsin.console import audit
from tocsin.db import session_scope
from tocsin.oncall import service as oncall
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

SCHEDULES = """
schedules:
  payments:
    timezone: Europe/Paris
    layers:
      - {name: main, start: "2026-11-02T09:00", rotation: daily, participants: [ana, cy]}
"""


@pytest.fixture
def on_call(factory: sessionmaker[Session], clock: VirtualClock) -> Iterator[TestClient]:
    config = console_config(SCHEDULES)
    give_passwords(factory, clock, config)
    with TestClient(create_app(Settings(config, factory, clock))) as client:
        yield client


def test_the_page_shows_who_is_on_call_now_and_the_next_14_days(on_call: TestClient) -> None:
    assert sign_in(on_call, "cy") == 303
    page = on_call.get("/oncall")
    assert page.status_code == 200
    assert "payments" in page.text
    assert page.text.count("<td>ana</td>") + page.text.count("<td>cy</td>") >= 14
    assert "Take this shift" not in page.text  # a viewer
    calendar = on_call.get("/oncall/payments.ics")
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert calendar.text.startswith("BEGIN:VCALENDAR")
    assert "SUMMARY:ana on call (payments)" in calendar.text
    assert on_call.get("/oncall/nothing.ics").status_code == 404


def test_a_responder_takes_a_shift_and_hands_one_over(
    on_call: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    assert sign_in(on_call, "bo") == 303
    page = on_call.get("/oncall").text
    token = csrf_in(page)
    body = {"csrf": token, "schedule": "payments", "start": "now", "for": "2h", "reason": "swap"}
    answer = on_call.post("/oncall/override", data=body, follow_redirects=False)
    assert answer.status_code == 303
    local = clock.now().replace(tzinfo=None).isoformat(" ", "minutes")  # read in Paris time
    body = {"csrf": token, "schedule": "payments", "user": "cy", "start": local, "for": "1d"}
    answer = on_call.post("/oncall/override", data=body, follow_redirects=False)
    assert answer.status_code == 303
    with session_scope(factory) as s:
        rows = oncall.list_overrides(s, schedule="payments")
        assert sorted((r.username, r.created_by) for r in rows) == [("bo", "bo"), ("cy", "bo")]
        logged = [(r.actor, r.action, r.target) for r in audit.list_(s, action="oncall.override")]
    assert logged == [("bo", "oncall.override", "schedule payments")] * 2
    assert "override #" in on_call.get("/oncall").text


def test_bad_override_forms_are_named_and_change_nothing(
    on_call: TestClient, factory: sessionmaker[Session]
) -> None:
    assert sign_in(on_call, "bo") == 303
    token = csrf_in(on_call.get("/oncall").text)
    for body, message in [
        ({"schedule": "nope"}, "schedule: one of payments"),
        ({"schedule": "payments", "user": "zed"}, "user: not one of"),
        ({"schedule": "payments", "start": "tomorrow"}, "start: &#39;tomorrow&#39; is not"),
        ({"schedule": "payments", "for": "forever"}, "for:"),
        ({"schedule": "payments", "for": "200d"}, "at most 90 days"),
    ]:
        answer = on_call.post("/oncall/override", data={"csrf": token, **body})
        assert answer.status_code == 400, body
        assert message in answer.text, body
    answer = on_call.post("/oncall/override", data={"schedule": "payments"})
    assert answer.status_code == 403
    with session_scope(factory) as s:
        assert oncall.list_overrides(s) == []
