"""`/status/api/v2/`: Statuspage's documents, checked against a JSON Schema written from
Statuspage's published API v2 documentation and read back over HTTP by an independent
client (httpx against a real server on loopback)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jsonschema
import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.peers import serving
from tests.support.status import declare, fire, post, status_config, window

from tocsin.clock import VirtualClock
from tocsin.web.deps import Settings

# From Statuspage's public API v2 documentation (status.json, components.json,
# incidents.json, scheduled-maintenances.json, summary.json). The documentation lists
# none/minor/major/critical as indicators; pages under maintenance answer "maintenance"
# (status.cloudsmith.io's, quoted in cloudsmith-io/cloudsmith-api#25), so it is allowed.
TIME = {"type": "string", "format": "date-time", "pattern": r"Z$"}
MAYBE_TIME = {"anyOf": [TIME, {"type": "null"}]}
STATUSES = [
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
]
PAGE = {
    "type": "object",
    "required": ["id", "name", "url", "time_zone", "updated_at"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "time_zone": {"type": "string"},
        "updated_at": TIME,
    },
}
COMPONENT = {
    "type": "object",
    "required": [
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    ],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"enum": STATUSES},
        "created_at": TIME,
        "updated_at": TIME,
        "position": {"type": "integer"},
        "description": {"type": ["string", "null"]},
        "showcase": {"type": "boolean"},
        "start_date": {"type": ["string", "null"]},
        "group_id": {"type": ["string", "null"]},
        "page_id": {"type": "string"},
        "group": {"type": "boolean"},
        "only_show_if_degraded": {"type": "boolean"},
        "components": {"type": "array", "items": {"type": "string"}},
    },
}
UPDATE = {
    "type": "object",
    "required": ["id", "status", "body", "incident_id", "created_at", "updated_at", "display_at"],
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string"},
        "body": {"type": "string"},
        "incident_id": {"type": "string"},
        "created_at": TIME,
        "updated_at": TIME,
        "display_at": TIME,
    },
}
INCIDENT_FIELDS = {
    "id": {"type": "string"},
    "name": {"type": "string"},
    "created_at": TIME,
    "updated_at": TIME,
    "monitoring_at": MAYBE_TIME,
    "resolved_at": MAYBE_TIME,
    "shortlink": {"type": "string"},
    "started_at": TIME,
    "page_id": {"type": "string"},
    "incident_updates": {"type": "array", "items": UPDATE},
    "components": {"type": "array", "items": COMPONENT},
}
INCIDENT_REQUIRED = [*INCIDENT_FIELDS, "status", "impact"]
INCIDENT = {
    "type": "object",
    "required": INCIDENT_REQUIRED,
    "properties": {
        **INCIDENT_FIELDS,
        "status": {"enum": ["investigating", "identified", "monitoring", "resolved", "postmortem"]},
        "impact": {"enum": ["none", "minor", "major", "critical"]},
    },
}
MAINTENANCE = {
    "type": "object",
    "required": [*INCIDENT_REQUIRED, "scheduled_for", "scheduled_until"],
    "properties": {
        **INCIDENT_FIELDS,
        "status": {"enum": ["scheduled", "in_progress", "verifying", "completed"]},
        "impact": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
        "scheduled_for": TIME,
        "scheduled_until": TIME,
    },
}
STATUS = {
    "type": "object",
    "required": ["indicator", "description"],
    "properties": {
        "indicator": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
        "description": {"type": "string"},
    },
}


def document(**lists: dict[str, Any]) -> dict[str, Any]:
    properties = {"page": PAGE, **lists}
    return {"type": "object", "required": list(properties), "properties": properties}


def many(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


SCHEMAS = {
    "summary.json": document(
        components=many(COMPONENT),
        incidents=many(INCIDENT),
        scheduled_maintenances=many(MAINTENANCE),
        status=STATUS,
    ),
    "status.json": document(status=STATUS),
    "components.json": document(components=many(COMPONENT)),
    "incidents.json": document(incidents=many(INCIDENT)),
    "incidents/unresolved.json": document(incidents=many(INCIDENT)),
    "scheduled-maintenances.json": document(scheduled_maintenances=many(MAINTENANCE)),
    "scheduled-maintenances/upcoming.json": document(scheduled_maintenances=many(MAINTENANCE)),
    "scheduled-maintenances/active.json": document(scheduled_maintenances=many(MAINTENANCE)),
}


@pytest.fixture
def base(factory: sessionmaker[Session], clock: VirtualClock) -> Any:
    with serving(Settings(status_config(), factory, clock)) as url:
        yield f"{url}/status/api/v2"


def read(base: str, path: str) -> dict[str, Any]:
    answer = httpx.get(f"{base}/{path}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    found: dict[str, Any] = answer.json()
    return found


def test_every_document_has_statuspages_shape(
    base: str, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    fire(factory, clock.now(), "CRITICAL", service="payments")
    window(factory, clock.now(), ["search"], timedelta(0), timedelta(hours=1), "Reindex")
    window(factory, clock.now(), ["web"], timedelta(days=1), timedelta(hours=1), "CDN move")
    incident = declare(factory, clock.now(), ago=timedelta(minutes=30))
    post(factory, clock.now() - timedelta(minutes=20), incident, "Looking into it.")
    post(factory, clock.now() - timedelta(minutes=10), incident, "Fixed.", "resolved")
    declare(factory, clock.now(), title="Search is slow", severity="SEV-3", services=("search",))
    for path, schema in SCHEMAS.items():
        body = read(base, path)
        jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())
        if path.startswith("incidents") or path == "summary.json":
            assert body["incidents"], path  # validated with an incident in it
        assert body["page"] == {
            "id": "acme",
            "name": "Acme",
            "url": "https://tocsin.example/status",
            "time_zone": "Etc/UTC",
            "updated_at": "2026-11-17T14:00:00Z",
        }


def test_the_values_are_statuspages(
    base: str, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    assert read(base, "status.json")["status"] == {
        "indicator": "none",
        "description": "All Systems Operational",
    }
    fire(factory, clock.now(), "HIGH", service="payments")
    window(factory, clock.now(), ["search"], timedelta(0), timedelta(hours=1), "Reindex")
    window(factory, clock.now(), ["web"], timedelta(days=1), timedelta(hours=1), "CDN move")
    summary = read(base, "summary.json")
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    by_id = {c["id"]: c for c in summary["components"]}
    assert by_id["checkout"]["status"] == "partial_outage"
    assert by_id["checkout"]["group_id"] == "group-storefront"
    assert by_id["group-storefront"]["group"] is True
    assert by_id["group-storefront"]["components"] == ["website", "checkout"]
    assert by_id["group-storefront"]["status"] == "partial_outage"
    assert by_id["search"]["status"] == "under_maintenance"
    assert [c["position"] for c in summary["components"]] == [1, 2, 3, 4, 5, 6]
    active = read(base, "scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert [(m["name"], m["status"]) for m in active] == [("Reindex", "in_progress")]
    assert [c["id"] for c in active[0]["components"]] == ["search"]
    upcoming = read(base, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    assert [(m["name"], m["scheduled_for"]) for m in upcoming] == [
        ("CDN move", "2026-11-18T14:00:00Z")
    ]
    assert len(read(base, "scheduled-maintenances.json")["scheduled_maintenances"]) == 2
    assert read(base, "incidents/unresolved.json")["incidents"] == []
