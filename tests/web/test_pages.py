"""Every HTML page carries the security headers and no inline style or script; the API's
JSON is left as it is."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import SHIPPED, ack_path, client_for

from tocsin.clock import VirtualClock

POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def assert_guarded(page: Response) -> None:
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == POLICY
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    body = page.text.lower()
    assert "<style" not in body
    assert " style=" not in body
    assert "<script" not in body


@pytest.fixture
def page_path(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> str:
    return ack_path(client, ingest, factory, clock)


def test_the_acknowledge_pages_carry_the_security_headers(
    client: TestClient, page_path: str
) -> None:
    assert_guarded(client.get(page_path))  # the confirm page
    assert_guarded(client.post(page_path, data={"by": "ana"}))  # acknowledged
    assert_guarded(client.post(page_path))  # nothing to acknowledge: 409
    refused = client.get("/ack/not-a-token")
    assert refused.status_code == 400
    assert_guarded(refused)


def test_the_page_links_a_stylesheet_the_app_serves(client: TestClient, page_path: str) -> None:
    page = client.get(page_path)
    assert '<link rel="stylesheet" href="../static/tocsin.css">' in page.text
    sheet = client.get(urljoin(page_path, "../static/tocsin.css"))
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    assert ".CRITICAL" in sheet.text
    assert "content-security-policy" not in sheet.headers


def test_json_answers_and_pings_are_left_alone(client: TestClient, admin: dict[str, str]) -> None:
    for answer in (client.get("/healthz"), client.get("/api/v1/alerts", headers=admin)):
        assert answer.headers["content-type"] == "application/json"
        assert "content-security-policy" not in answer.headers


def test_there_is_no_page_that_loads_code_from_a_cdn(client: TestClient) -> None:
    assert client.get("/api/v1/docs").status_code == 404
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_the_runbook_pages_get_the_same_headers_beside_their_own_policy(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    with client_for(factory, clock, SHIPPED) as client:
        for path in ("/runbooks", "/runbooks/database-emergency", "/runbooks/nope"):
            page = client.get(path)
            assert page.headers["x-frame-options"] == "DENY", path
            assert page.headers["referrer-policy"] == "no-referrer", path
            assert page.headers["x-content-type-options"] == "nosniff", path
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"], path
            assert "unsafe-inline" not in page.headers["content-security-policy"], path
