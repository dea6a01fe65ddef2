"""The runbook pages notifications link to, and the runbooks under /api/v1."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import SHIPPED, client_for, make_token

from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.notify.text import runbook_link

HOSTILE = """\
---
id: hostile
title: "<script>alert('title')</script>"
severity: HIGH
expected_duration: 5m
services: ["<img src=x onerror=alert(1)>"]
---
# Hostile <b>heading</b>

<script>alert('body')</script>

<img src=x onerror="alert('img')">

[click me](javascript:alert('link')) and [data](data:text/html;base64,PHNjcmlwdD4=)
and <javascript:alert('autolink')>

## Symptoms

- <style>body { display: none }</style> <a href="javascript:alert(1)" style="x">raw</a>

## Resolution Steps

1. **Run** it
   ```sql {"source": "shop", "test": "'<script>' != ''"}
   SELECT '</code></pre><script>alert(1)</script>' AS x
   ```
   ```"><script>alert('info')</script>
   text
   ```

## Verification Steps

- [ ] <iframe src="https://evil.example"></iframe>

## Escalation Criteria

- Nobody
"""


@pytest.fixture
def shipped(factory: sessionmaker[Session], clock: VirtualClock) -> Iterator[TestClient]:
    with client_for(factory, clock, SHIPPED) as client:
        yield client


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


def test_every_link_a_notification_carries_opens_its_runbook(shipped: TestClient) -> None:
    text = resources.files("tocsin.examples").joinpath("storefront.yaml").read_text("utf-8")
    config, _ = parse(text, "storefront.yaml", env={"SHOP_DATABASE_URL": "sqlite:///x.db"})
    links = [runbook_link(c.runbook, "https://tocsin.example") for c in config.checks if c.runbook]
    assert len(links) == 4
    for link in links:
        answer = shipped.get(link.removeprefix("https://tocsin.example"))
        assert answer.status_code == 200, link


def test_a_runbook_page_has_its_facts_contents_and_anchored_sections(shipped: TestClient) -> None:
    answer = shipped.get("/runbooks/provider-failure")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert "<title>Provider failure · Runbook · Tocsin</title>" in html
    assert '<a href="#resolution-steps">Resolution Steps</a>' in html
    assert '<h2 id="resolution-steps">Resolution Steps</h2>' in html
    assert '<h3 id="step-2-immediate-failover-2-minutes">' in html
    assert "sql · write · source shop" in html  # the failover's UPDATE says what it does
    assert "<td><code>provider_name</code></td>" in html
    assert (
        shipped.get("/runbooks/assets/runbook.css").headers["content-type"].startswith("text/css")
    )


def test_the_pages_allow_no_script_and_no_inline_style(shipped: TestClient) -> None:
    for path in ("/runbooks", "/runbooks/database-emergency", "/runbooks/nope"):
        answer = shipped.get(path)
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "style-src 'self'" in policy
        assert "script-src" not in policy
        for tag, attrs in elements(answer.text):
            assert tag not in ("script", "style"), path
            assert "style" not in attrs, path


def test_an_unknown_runbook_is_a_404_page(shipped: TestClient) -> None:
    answer = shipped.get("/runbooks/nope")
    assert answer.status_code == 404
    assert "no runbook &#39;nope&#39;" in answer.text


def test_a_hostile_runbook_renders_inert(
    tmp_path: Path, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    (tmp_path / "hostile.md").write_text(HOSTILE)
    with client_for(factory, clock, tmp_path) as client:
        answer = client.get("/runbooks/hostile")
    assert answer.status_code == 200
    found = elements(answer.text)
    assert [t for t, _ in found if t in ("script", "style", "iframe", "img", "object")] == []
    for tag, attrs in found:
        assert not [name for name in attrs if name.startswith("on") or name == "style"], tag
        for name in ("href", "src", "action"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (tag, value)
    # The text is still there to read, escaped.
    assert "&lt;script&gt;alert('body')&lt;/script&gt;" in answer.text
    assert "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;" in answer.text


def test_the_api_lists_and_shows_runbooks_with_the_read_scope(
    shipped: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    reader = {"Authorization": "Bearer " + make_token(factory, clock, "grafana", "read")}
    assert shipped.get("/api/v1/runbooks").status_code == 401
    listed = shipped.get("/api/v1/runbooks", headers=reader).json()
    assert len(listed) == 18
    payment = next(r for r in listed if r["id"] == "payment-processing-failure")
    assert payment["severity"] == "CRITICAL"
    assert payment["checks"] == ["payment_processing"]
    assert payment["file"] == "payment-processing-failure.md"
    shown = shipped.get("/api/v1/runbooks/payment-processing-failure", headers=reader).json()
    assert [s["number"] for s in shown["steps"]] == [1, 2, 3, 4, 5, 6, 7]
    first = shown["steps"][0]["blocks"][0]
    assert (first["kind"], first["dialect"], first["auto"], first["source"]) == (
        "sql",
        "postgresql",
        True,
        "shop",
    )
    assert {"since", "now"} <= set(first["params"])
    assert shown["verification"][0]["blocks"][0]["tests"] == ["orders_last_5_min > 0"]
    keys = next(p for p in shown["params"] if p["name"] == "make_api_key")
    assert keys["env"] == "MAKE_API_KEY"
    missing = shipped.get("/api/v1/runbooks/nope", headers=reader)
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "no runbook 'nope'"}


def test_the_runbook_endpoints_are_in_the_openapi_document(shipped: TestClient) -> None:
    paths = shipped.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/runbooks" in paths
    assert "/api/v1/runbooks/{runbook_id}" in paths
