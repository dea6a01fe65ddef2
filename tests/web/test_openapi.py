"""The operator API under /api/v1 as its OpenAPI document describes it: each operation's
scope, answer and 4xx; one status for bad input (400); no unknown query parameter ignored;
listings a page at a time."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tocsin.checks.models import Evaluation
from tocsin.clock import VirtualClock
from tocsin.config import CheckConfig
from tocsin.db import session_scope
from tocsin.noise.models import Silence
from tocsin.web.deps import Settings
from tocsin.web.paging import encode


def document(client: TestClient) -> dict[str, Any]:
    found: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    return found


def v1_operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document(client)["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in operations.items()
    ]


def test_every_v1_operation_declares_its_scope_answer_and_errors(client: TestClient) -> None:
    operations = v1_operations(client)
    assert len(operations) >= 20
    for method, path, operation in operations:
        where = f"{method} {path}"
        if path == "/api/v1/alertmanager/{key}":  # the key in the URL is the credential
            assert operation["security"] == [], where
        else:
            ((scheme, scopes),) = (item for requirement in operation["security"]
                                   for item in requirement.items())  # fmt: skip
            assert scheme == "bearer", where
            assert len(scopes) == 1, where
            assert scopes[0] in ("ingest", "read", "write", "admin"), where
        answers = operation["responses"]
        ok = answers.get("200") or answers["201"]
        schema = ok["content"]["application/json"]["schema"]
        assert "$ref" in schema or "$ref" in schema.get("items", {}), (where, schema)
        for code in ("400", "401", "403", "429"):
            error = answers[code]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorOut"}, (where, code)
        assert "422" not in answers, where
        if ("{" in path and method != "POST") or path.endswith(("/ack", "/resolve", "/end")):
            assert "404" in answers, where


def test_the_bearer_scheme_says_which_scopes_imply_which(client: TestClient) -> None:
    scheme = document(client)["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "`write` implies `read`" in scheme["description"]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path).replace("/checks/1/", "/checks/error_rate/")


def test_an_unknown_query_parameter_is_a_400_naming_it(
    client: TestClient, admin: dict[str, str], factory: sessionmaker[Session]
) -> None:
    for method, path, operation in v1_operations(client):
        if "inbound" in operation["tags"]:
            continue  # senders' URLs are answered as their formats say, query or not
        answer = client.request(method, concrete(path) + "?stat=firing", headers=admin, json={})
        assert answer.status_code == 400, (method, path, answer.text)
        body = answer.json()
        assert body["problems"] == ["query.stat: not a parameter of this operation"]
        assert "unknown query parameter 'stat'" in body["message"], body
    with session_scope(factory) as session:
        assert session.query(Silence).count() == 0  # nothing was created on the way


def test_bad_input_is_400_under_v1_and_as_it_was_elsewhere(
    client: TestClient, admin: dict[str, str]
) -> None:
    limit = client.get("/api/v1/alerts?limit=0", headers=admin)
    assert limit.status_code == 400
    assert limit.json()["problems"] == ["query.limit: Input should be greater than or equal to 1"]
    body = client.post("/api/v1/silences", json={"matchers": []}, headers=admin)
    assert body.status_code == 400
    assert any(p.startswith("body.matchers") for p in body.json()["problems"])
    assert client.post("/api/v1/events", content=b"{", headers=admin).status_code == 400
    # Alertmanager's API and the pings answer as their clients know them.
    assert client.get("/api/v2/silence/not-a-uuid", headers=admin).status_code == 422
    assert client.get("/ping/0f8fad5b-d9cb-469f-a165-70867728950e/300").status_code == 422


def follow(client: TestClient, url: str, headers: dict[str, str]) -> list[list[Any]]:
    """Every page of a listing, by its Link headers."""
    pages = []
    while url:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        found = re.fullmatch(r'<([^>]+)>; rel="next"', answer.headers.get("link", ""))
        url = found.group(1) if found else ""
    return pages


def test_alerts_come_a_page_at_a_time_newest_first(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    events = [{"key": f"k{i}", "title": f"Down {i}", "severity": "HIGH"} for i in range(5)]
    answer = client.post("/api/v1/events", json={"events": events}, headers=ingest)
    made = [r["alert_id"] for r in answer.json()["results"]]
    pages = follow(client, "/api/v1/alerts?limit=2&state=firing", admin)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [a["id"] for page in pages for a in page] == made[::-1]
    refused = client.get("/api/v1/alerts?cursor=bm9wZQ", headers=admin)
    assert refused.status_code == 400
    assert refused.json()["message"].startswith("cursor: not a cursor this listing gave")


def test_evaluations_page_through_ties_in_their_start(
    client: TestClient,
    admin: dict[str, str],
    factory: sessionmaker[Session],
    clock: VirtualClock,
    settings: Settings,
) -> None:
    settings.use(settings.config.model_copy(update={"checks": [error_rate_check()]}))
    with session_scope(factory) as session:
        for i in range(7):
            at = clock.now() + timedelta(minutes=i // 2)  # two start in each minute
            session.add(
                Evaluation(
                    check_name="error_rate", slot_at=clock.now() + timedelta(minutes=i),
                    started_at=at, finished_at=at,
                    duration_ms=1.0, status="ok", results=[],
                )
            )  # fmt: skip
    pages = follow(client, "/api/v1/checks/error_rate/evaluations?limit=3", admin)
    ids = [e["id"] for page in pages for e in page]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sorted(ids) == list(range(min(ids), min(ids) + 7))  # each once
    starts = [e["started_at"] for page in pages for e in page]
    assert starts == sorted(starts, reverse=True)
    alerts_cursor = encode("alerts", 10)  # another listing's cursor is refused
    wrong = client.get(
        f"/api/v1/checks/error_rate/evaluations?cursor={alerts_cursor}", headers=admin
    )
    assert wrong.status_code == 400


def error_rate_check() -> CheckConfig:
    return CheckConfig.model_validate(
        {
            "name": "error_rate",
            "source": "shop",
            "schedule": {"every": "1m"},
            "query": "SELECT 1",
            "conditions": [{"when": ">= 10", "severity": "HIGH"}],
        }
    )


@pytest.mark.parametrize("listing", ["silences", "heartbeats"])
def test_short_listings_page_too(listing: str, client: TestClient, admin: dict[str, str]) -> None:
    for i in range(3):
        body = {"matchers": [f'service="s{i}"'], "for": "1h", "comment": "deploy"}
        assert client.post("/api/v1/silences", json=body, headers=admin).status_code == 201
    everything = client.get(f"/api/v1/{listing}", headers=admin).json()
    pages = follow(client, f"/api/v1/{listing}?limit=1", admin)
    assert [row for page in pages for row in page] == everything
    assert len(pages) == len(everything) == 3


@pytest.mark.parametrize(
    ("listing", "kind", "position"),
    [
        ("alerts", "alerts", 2**63),
        ("alerts", "alerts", True),
        ("alerts", "alerts", "12"),
        ("alerts", "offset", 1),
        ("silences", "offset", -1),
        ("checks/error_rate/evaluations", "evaluations", ["2026-11-17T14:00:00", 1]),
        ("checks/error_rate/evaluations", "evaluations", ["soon", 1]),
        ("checks/error_rate/evaluations", "evaluations", "x"),
    ],
)
def test_a_cursor_this_listing_did_not_give_is_a_400(
    listing: str, kind: str, position: Any, client: TestClient, admin: dict[str, str],
    settings: Settings,
) -> None:  # fmt: skip
    settings.use(settings.config.model_copy(update={"checks": [error_rate_check()]}))
    answer = client.get(f"/api/v1/{listing}?cursor={encode(kind, position)}", headers=admin)
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith("cursor: not a cursor this listing gave")
