"""Customer communication templates: reference 002's shipped, a user's own sandboxed, a
template error a clear message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import incident_config

from tocsin import actions
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.errors import Invalid
from tocsin.incidents import templates
from tocsin.incidents.schemas import incident_detail
from tocsin.incidents.service import NewIncident, NewUpdate
from tocsin.pipeline import Pipeline

MINE = """
  contact: support@zta.io
  templates:
    short: "{{ incident.id }} is {{ incident.status }}"
    broken: "{{ incident.nope }}"
    unclosed: "{% if x %}"
    escape: "{{ incident.__class__.__mro__ }}"
"""


def resolved_detail(
    factory: sessionmaker[Session], clock: VirtualClock, pipeline: Pipeline
) -> dict[str, Any]:
    with session_scope(factory) as s:
        new = NewIncident(
            title="Analytics data lost", severity="SEV-1", services=["analytics"],
            customer_impact="Dashboards empty for 40 minutes",
        )  # fmt: skip
        found = actions.incidents.declare(s, pipeline, new, "ana", clock.now()).id
    clock.advance(timedelta(minutes=10))
    with session_scope(factory) as s:
        update = NewUpdate(message="Restored from the 04:00 backup", status="mitigating")
        actions.incidents.post_update(s, pipeline, found, update, "ana", clock.now())
    clock.advance(timedelta(minutes=30))
    with session_scope(factory) as s:
        actions.incidents.move(s, pipeline, found, "resolved", "ana", clock.now())
        return incident_detail(s, found)


def test_the_shipped_data_recovery_template_is_filled_in(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = incident_config("  contact: support@zta.io\n")
    detail = resolved_detail(factory, clock, Pipeline(config))
    text = templates.render(config.incidents, "data-recovery-complete", detail)
    assert text.startswith("Subject: Service Restored - Data Recovery Complete\n")
    assert "affecting analytics from 2026-11-17 14:00 UTC to 2026-11-17 14:40 UTC" in text
    assert "- 2026-11-17 14:10 UTC: Recovery initiated" in text
    assert "Impact: Dashboards empty for 40 minutes" in text
    assert "Resolution: Restored from the 04:00 backup" in text
    assert "contact support@zta.io." in text
    update = templates.render(config.incidents, "status-update", detail)
    assert "Status: resolved" in update


def test_user_templates_render_and_their_errors_are_clear(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = incident_config(MINE)
    detail = resolved_detail(factory, clock, Pipeline(config))
    assert templates.render(config.incidents, "short", detail) == "INC-2026-11-17-001 is resolved"
    with pytest.raises(Invalid, match=r"template 'broken'.*nope"):
        templates.render(config.incidents, "broken", detail)
    with pytest.raises(Invalid, match=r"template 'unclosed' \(line 1\)"):
        templates.render(config.incidents, "unclosed", detail)
    with pytest.raises(Invalid, match="template 'escape'"):
        templates.render(config.incidents, "escape", detail)
    with pytest.raises(Invalid, match="template: 'nope' is not one of broken, data-recovery"):
        templates.render(config.incidents, "nope", detail)
