"""`POST /api/v2/alerts` re-sends answered ahead of FastAPI (`tocsin.web.resends`): the same
answers and the same rows as FastAPI's route gives, for every shape of request."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send
from tests.support.store import dump, truncate
from tests.support.web import api_config, make_token, prom_alert

from tocsin.clock import VirtualClock
from tocsin.db import make_engine, make_sessionmaker
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

LIMIT = 4096
HEADERS = ("content-type", "content-length", "www-authenticate", "retry-after")


class App:
    """An app on a store of its own, with its tokens, counting what reached FastAPI."""

    def __init__(self, path: Path, clock: VirtualClock, fast: bool, **api_settings: float) -> None:
        self.engine = make_engine(f"sqlite:///{path}")
        factory = make_sessionmaker(self.engine)
        config = api_config()
        api = config.api.model_copy(update={"max_body_bytes": LIMIT, **api_settings})
        self.settings = Settings(config.model_copy(update={"api": api}), factory, clock)
        app = create_app(self.settings, fast_resends=fast)
        self.to_fastapi = 0
        if fast:
            resends = app.resends.app  # type: ignore[attr-defined]
            stack = resends.fallback

            async def counted(scope: Scope, receive: Receive, send: Send) -> None:
                self.to_fastapi += 1
                await stack(scope, receive, send)

            resends.fallback = counted
        self.client = TestClient(app, raise_server_exceptions=True)
        self.tokens = {
            scope: make_token(factory, clock, name, scope)
            for name, scope in (("prometheus", "ingest"), ("grafana", "read"))
        }

    def send(self, request: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
        headers = dict(request.get("headers", {}))
        auth = request.get("auth")
        if auth in self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens[auth]}"
        elif auth == "basic":
            pair = base64.b64encode(f"x:{self.tokens['ingest']}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        elif auth is not None:
            headers["Authorization"] = auth
        body = request.get("body", b"")
        content = iter(body) if isinstance(body, list) else body
        answer = self.client.request(
            request.get("method", "POST"), "/api/v2/alerts", content=content, headers=headers
        )
        kept = {name: answer.headers[name] for name in HEADERS if name in answer.headers}
        return answer.status_code, answer.content, kept

    def close(self) -> None:
        self.client.close()
        self.engine.dispose()


@pytest.fixture
def pair(sqlite_template: Path, tmp_path: Path, clock: VirtualClock) -> Iterator[list[App]]:
    apps = []
    for name, fast in (("fast.db", True), ("plain.db", False)):
        (tmp_path / name).write_bytes(sqlite_template.read_bytes())
        apps.append(App(tmp_path / name, clock, fast))
    yield apps
    for app in apps:
        app.close()


def body_of(alerts: list[dict[str, Any]]) -> bytes:
    return json.dumps(alerts).encode()


def test_every_shape_is_answered_as_fastapi_answers_it(
    pair: list[App], clock: VirtualClock
) -> None:
    fleet = [prom_alert(clock, instance="a"), prom_alert(clock, instance="b")]
    repeated = {"auth": "ingest", "body": body_of(fleet)}
    changed = [dict(fleet[0], annotations={"summary": "worse"}), fleet[1]]
    big = body_of([prom_alert(clock, instance=str(i)) for i in range(40)])
    assert len(big) > LIMIT
    requests: list[dict[str, Any]] = [
        repeated,  # new: written
        repeated,  # the first re-send: read from the store, remembered
        repeated,  # answered from memory
        {"auth": "basic", "body": body_of(fleet)},  # amtool's way of sending the token
        {"body": body_of(fleet)},  # no token
        {"auth": "Bearer not-a-token", "body": body_of(fleet)},
        {"auth": "Digest abc", "body": body_of(fleet)},
        {"auth": "read", "body": body_of(fleet)},  # a token without the ingest scope
        {"auth": "ingest", "body": b"[{"},  # not JSON
        {"auth": "ingest", "body": b'[{"annotations": {}}]'},  # no labels
        {"auth": "ingest", "body": b'{"labels": {"a": "b"}}'},  # not a list
        {"auth": "ingest", "body": b"[]"},
        {"auth": "ingest", "body": big},  # declared too large
        {"auth": "ingest", "body": [big[:3000], big[3000:]]},  # too large, without a length
        {"auth": "ingest", "body": [body_of(fleet)[:50], body_of(fleet)[50:]]},  # chunked
        {"auth": "ingest", "body": body_of(changed)},  # a change: written
        {"auth": "ingest", "body": body_of(changed)},
        {"auth": "ingest", "body": body_of(fleet[:1])},  # changed back
        {"auth": "ingest", "body": body_of(fleet[1:])},
        {"auth": "read", "method": "GET"},
        {"auth": "ingest", "method": "PUT", "body": body_of(fleet)},
    ]
    fast, plain = pair
    for request in requests:
        assert fast.send(request) == plain.send(request), request
    rows = [dump(app.engine) for app in pair]
    for found in rows:
        for table in ("api_token", "heartbeat"):  # random keys, not the requests'
            found.pop(table)
    assert rows[0] == rows[1]
    assert len(rows[0]["alert"]) == 2
    # Answered ahead of FastAPI: the third, the Basic one, the chunked one, the second
    # "worse" (its write was remembered) and the last but two.
    assert fast.to_fastapi == len(requests) - 5


def test_a_token_over_its_rate_is_refused_as_fastapi_refuses_it(
    sqlite_template: Path, tmp_path: Path, clock: VirtualClock
) -> None:
    apps = []
    for name, fast in (("fast.db", True), ("plain.db", False)):
        (tmp_path / name).write_bytes(sqlite_template.read_bytes())
        apps.append(App(tmp_path / name, clock, fast, rate_limit=0.001, rate_burst=3))
    repeated = {"auth": "ingest", "body": body_of([prom_alert(clock)])}
    answers = [[app.send(repeated) for _ in range(4)] for app in apps]
    assert answers[0] == answers[1]
    assert [status for status, _, _ in answers[0]] == [200, 200, 200, 429]
    assert "retry-after" in answers[0][3][2]
    for app in apps:
        app.close()


def test_postgresql_goes_to_fastapi(pg_database: str, clock: VirtualClock) -> None:
    engine = make_engine(pg_database)
    truncate(engine)
    settings = Settings(api_config(), make_sessionmaker(engine), clock)
    token = make_token(settings.factory, clock, "prometheus", "ingest")
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            answer = client.post(
                "/api/v2/alerts",
                content=body_of([prom_alert(clock)]),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert (answer.status_code, answer.content) == (200, b"null")
    assert len(dump(engine)["alert"]) == 1
    engine.dispose()
