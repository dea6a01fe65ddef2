"""The ping fast path (`tocsin.web.pings`) answers exactly as FastAPI's ping routes do: the
same request sent to the app with and without it gets the same status, body and headers,
and leaves the same ping row behind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import CRON_KEY, HEARTBEAT_KEY, api_config

from tocsin.clock import VirtualClock
from tocsin.config import parse as parse_config
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.errors import ConfigError
from tocsin.heartbeats import service as heartbeats
from tocsin.heartbeats.models import Heartbeat, HeartbeatPing
from tocsin.heartbeats.service import PingHistory
from tocsin.pipeline import Pipeline
from tocsin.web.app import create_app
from tocsin.web.deps import Settings
from tocsin.web.pings import parse

LIMIT = 1_000  # the body limit these apps run with
UNKNOWN = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
K = HEARTBEAT_KEY


def chunked(size: int) -> list[bytes]:
    """A body sent in chunks (`Transfer-Encoding: chunked`, no length declared)."""
    return [b"y" * 100] * (size // 100)


# (method, path, body): every shape the routes know, and the odd ones the fast path passes on
REQUESTS: list[tuple[str, str, Any]] = [
    ("GET", f"/ping/{K}", None),
    ("POST", f"/ping/{K}", b"all good\n"),
    ("HEAD", f"/ping/{K}", None),
    ("GET", f"/ping/{K}/start", None),
    ("POST", f"/ping/{K}/fail", "caf\u00e9 ERROR".encode() + b"\xff\xfe"),
    ("GET", f"/ping/{K}/0", None),
    ("POST", f"/ping/{K}/3", b"exit 3"),
    ("HEAD", f"/ping/{K}/255", None),
    ("GET", f"/ping/{K}/256", None),
    ("GET", f"/ping/{K}/-1", None),
    ("GET", f"/ping/{K}/abc", None),
    ("GET", f"/ping/{K}/007", None),
    ("GET", f"/ping/{K}/1.0", None),
    ("GET", f"/ping/{K}/\u00b2", None),
    ("GET", f"/ping/{K}/", None),
    ("GET", f"/ping/{K}/start/x", None),
    ("GET", "/ping/", None),
    ("GET", "/ping/" + "a" * 64, None),
    ("GET", "/ping/" + "a" * 65, None),
    ("GET", f"/ping/{UNKNOWN}", None),
    ("GET", f"/ping/{UNKNOWN}/fail", None),
    ("PUT", f"/ping/{K}", b"x"),
    ("DELETE", f"/ping/{K}/start", None),
    ("OPTIONS", f"/ping/{K}/3", None),
    ("POST", f"/ping/{K}", b"z" * (LIMIT + 1)),
    ("POST", f"/ping/{K}/fail", b"z" * LIMIT),
    ("POST", f"/ping/{K}", chunked(LIMIT + 100)),
    ("POST", f"/ping/{K}/fail", chunked(LIMIT)),
    ("POST", f"/ping/{UNKNOWN}", chunked(LIMIT * 2)),
]
HEADERS = ("content-type", "content-length", "allow", "location", "retry-after", "connection")


@pytest.fixture
def settings(factory: sessionmaker[Session], clock: VirtualClock) -> Settings:
    config = api_config()
    api = config.api.model_copy(update={"max_body_bytes": LIMIT})
    return Settings(config.model_copy(update={"api": api}), factory, clock)


@pytest.fixture
def both(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        TestClient(create_app(settings), raise_server_exceptions=True) as fast,
        TestClient(create_app(settings, fast_pings=False), raise_server_exceptions=True) as plain,
    ):
        yield fast, plain


def send(
    client: TestClient, factory: sessionmaker[Session], method: str, path: str, body: Any
) -> tuple[int, bytes, dict[str, str], list[tuple[Any, ...]]]:
    """The answer, and the rows of pings it stored."""
    with session_scope(factory) as s:
        before = s.scalar(select(func.coalesce(func.max(HeartbeatPing.id), 0)))
    content = iter(body) if isinstance(body, list) else body
    answer = client.request(method, path, content=content, follow_redirects=False)
    with session_scope(factory) as s:
        stored = s.scalars(select(HeartbeatPing).where(HeartbeatPing.id > before)).all()
        rows = [(p.kind, p.exit_code, p.method, p.remote, p.body) for p in stored]
    headers = {name: answer.headers[name] for name in HEADERS if name in answer.headers}
    return answer.status_code, answer.content, headers, rows


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_the_fast_path_answers_as_the_routes_do(
    both: tuple[TestClient, TestClient],
    factory: sessionmaker[Session],
    method: str,
    path: str,
    body: Any,
) -> None:
    fast, plain = both
    assert send(fast, factory, method, path, body) == send(plain, factory, method, path, body)


def test_an_unreachable_store_is_503_on_both(clock: VirtualClock) -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing")  # nobody there
    settings = Settings(api_config(), make_sessionmaker(engine), clock)
    answers = [
        TestClient(app).post(f"/ping/{K}/fail", content=b"log")
        for app in (create_app(settings), create_app(settings, fast_pings=False))
    ]
    assert [a.status_code for a in answers] == [503, 503]
    assert answers[0].json() == answers[1].json()
    assert answers[0].headers["retry-after"] == answers[1].headers["retry-after"] == "5"


def test_what_the_fast_path_answers_itself() -> None:
    def scope(method: str, path: str) -> dict[str, Any]:
        return {"type": "http", "method": method, "path": path, "root_path": ""}

    assert parse(scope("GET", f"/ping/{K}")) == (K, "success", None)
    assert parse(scope("HEAD", f"/ping/{K}/start")) == (K, "start", None)
    assert parse(scope("POST", f"/ping/{K}/fail")) == (K, "fail", None)
    assert parse(scope("POST", f"/ping/{K}/255")) == (K, "success", 255)
    for method, path in [
        ("PUT", f"/ping/{K}"),
        ("GET", f"/ping/{K}/256"),
        ("GET", f"/ping/{K}/01"),
        ("GET", f"/ping/{K}/"),
        ("GET", "/ping/" + "a" * 65),
    ]:
        assert parse(scope(method, path)) is None, path


def test_pings_answer_and_are_kept_through_the_fast_path(
    both: tuple[TestClient, TestClient], factory: sessionmaker[Session]
) -> None:
    fast, _ = both
    assert fast.head(f"/ping/{K}").status_code == 200
    assert fast.post(f"/ping/{K}/start", content=b"go").text == "OK"
    assert fast.put(f"/ping/{K}").status_code == 405
    assert fast.get(f"/ping/{K}/300").status_code == 422
    too_big = fast.post(f"/ping/{K}", content=chunked(LIMIT * 3))
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "payload_too_large"
    with session_scope(factory) as s:
        rows = s.execute(select(HeartbeatPing.kind, HeartbeatPing.method, HeartbeatPing.body))
        assert [tuple(row) for row in rows] == [("success", "HEAD", ""), ("start", "POST", "go")]


def test_a_heartbeat_keeps_its_newest_pings(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = api_config()
    beats = {beat.name: beat for beat in config.heartbeats}
    pipeline = Pipeline(config)
    history = PingHistory(8)  # prunes at the first ping, then every second one

    def ping(key: str, body: str, history: PingHistory = history) -> None:
        with session_scope(factory) as s:
            heartbeats.ping(s, beats, key, "success", clock.now(), pipeline, body=body,
                            history=history)  # fmt: skip

    def kept(key: str) -> list[str]:
        with session_scope(factory) as s:
            query = (
                select(HeartbeatPing.body)
                .join(Heartbeat, Heartbeat.id == HeartbeatPing.heartbeat_id)
                .where(Heartbeat.uuid == key)
                .order_by(HeartbeatPing.id)
            )
            return list(s.scalars(query))

    with session_scope(factory) as s:
        heartbeats.sync(s, config.heartbeats, clock.now())
    for n in range(19):
        ping(K, f"backup {n}")
    ping(CRON_KEY, "nightly")
    assert kept(K) == [f"backup {n}" for n in range(11, 19)]  # the 19th pruned: 8 left
    ping(K, "backup 19")
    assert len(kept(K)) == 9  # between prunes, up to keep + keep // 4 - 1
    ping(K, "backup 20")
    assert kept(K) == [f"backup {n}" for n in range(13, 21)]
    assert kept(CRON_KEY) == ["nightly"]  # other heartbeats' pings are theirs to keep

    # A new process (or a smaller keep) prunes each heartbeat at its first ping.
    ping(K, "backup 21", PingHistory(3))
    assert kept(K) == ["backup 19", "backup 20", "backup 21"]
    assert kept(CRON_KEY) == ["nightly"]


def test_the_api_keeps_the_configured_number_of_pings(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = api_config()
    config = config.model_copy(update={"api": config.api.model_copy(update={"keep_pings": 5})})
    with TestClient(create_app(Settings(config, factory, clock))) as client:
        for n in range(12):
            assert client.post(f"/ping/{K}", content=str(n).encode()).status_code == 200
    with session_scope(factory) as s:
        bodies = list(s.scalars(select(HeartbeatPing.body).order_by(HeartbeatPing.id)))
    assert bodies[-5:] == ["7", "8", "9", "10", "11"]
    assert len(bodies) < 5 + 5 // 4 + 1


@pytest.mark.parametrize("keep", ["0", "-1", "many", "1000000"])
def test_keep_pings_must_be_a_sensible_count(keep: str) -> None:
    with pytest.raises(ConfigError, match=r"api\.keep_pings"):
        parse_config(f"api: {{keep_pings: {keep}}}\n", "tocsin.yaml", env={})
