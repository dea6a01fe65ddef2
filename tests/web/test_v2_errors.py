"""Every error `/api/v2` answers has Alertmanager's shape: a bare JSON string (its 400 and 500
bodies are; amtool prints them), with the headers a client needs (`WWW-Authenticate`,
`Retry-After`); `/api/v1` keeps Tocsin's `{"error", "message"}`."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import api_config, make_token

from tocsin.clock import VirtualClock
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

SILENCE = {
    "matchers": [{"name": "alertname", "value": "DiskFull", "isRegex": False}],
    "startsAt": "2026-11-17T14:00:00Z",
    "endsAt": "2099-11-17T16:00:00Z",
    "createdBy": "ana",
    "comment": "swap",
}


def test_401_and_403_under_api_v2_are_json_strings_naming_what_is_wrong(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    none = client.get("/api/v2/silences")
    assert none.status_code == 401
    assert none.json() == "send a token: Authorization: Bearer <token> (tocsin token create)"
    assert none.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/api/v2/alerts", json=[], auth=("amtool", "tsn_nope"))
    assert (wrong.status_code, wrong.json()) == (401, "the token is unknown or revoked")
    reader = make_token(factory, clock, "grafana", "read")
    forbidden = client.post("/api/v2/silences", json=SILENCE, auth=("amtool", reader))
    assert forbidden.status_code == 403
    assert forbidden.json() == "token 'grafana' has scopes read; this needs write"
    assert client.get("/api/v2/silences", auth=("amtool", reader)).json() == []
    v1 = client.get("/api/v1/alerts")  # Tocsin's own API keeps its shape
    assert v1.json()["error"] == "unauthorized"


def test_413_under_api_v2_is_a_json_string_whether_declared_or_chunked(
    client: TestClient, ingest: dict[str, str]
) -> None:
    declared = client.post("/api/v2/alerts", content=b"[" + b" " * 1_100_000 + b"]", headers=ingest)
    assert declared.status_code == 413
    assert declared.json().startswith("the request body is larger than ")

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 100_000

    chunked = client.post("/api/v2/alerts", content=chunks(), headers=ingest)
    assert chunked.status_code == 413
    assert chunked.json() == declared.json()


def test_429_under_api_v2_is_a_json_string_with_retry_after(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = api_config().model_copy(
        update={"api": api_config().api.model_copy(update={"rate_limit": 0.01, "rate_burst": 1})}
    )
    token = make_token(factory, clock, "chatty", "read")
    with TestClient(create_app(Settings(config, factory, clock))) as client:
        assert client.get("/api/v2/silences", auth=("x", token)).status_code == 200
        limited = client.get("/api/v2/silences", auth=("x", token))
    assert limited.status_code == 429
    assert limited.json() == "token 'chatty' is over 0.01 requests/s"
    assert int(limited.headers["retry-after"]) >= 1


def test_404_and_400_under_api_v2_stay_json_strings(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    writer = make_token(factory, clock, "amtool", "write")
    missing = client.get("/api/v2/silence/00000000-0000-0000-0000-000000000000", auth=("x", writer))
    assert missing.status_code == 404
    assert isinstance(missing.json(), str)
    late = {**SILENCE, "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2020-01-02T00:00:00Z"}
    refused = client.post("/api/v2/silences", json=late, auth=("x", writer))
    assert refused.status_code == 400
    assert "end time can't be in the past" in refused.json()
