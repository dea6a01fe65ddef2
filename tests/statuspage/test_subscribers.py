"""Subscribers to the status page: email with double opt-in through a real SMTP server
(aiosmtpd) with RFC 8058's one-click unsubscribe headers, signed webhooks and Slack/Discord
webhooks on real loopback HTTP servers, a choice of components, a rate-limited subscribe
endpoint, bad input refused with nothing written, and two workers on one PostgreSQL store
telling each subscriber once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Loopback
from tests.support.race import collide, pair
from tests.support.smtp import MakeServer
from tests.support.status import STATUS, declare, post, window
from tests.support.store import truncate

from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import make_engine, session_scope
from tocsin.errors import ConfigError
from tocsin.statuspage import subscribers
from tocsin.statuspage.models import StatusDelivery, StatusSubscriber
from tocsin.web.app import create_app
from tocsin.web.deps import Settings
from tocsin.worker.loop import Worker

SECRET = "a-subscribers-secret-0123456789"


def config(smtp_port: int = 1, per_minute: int = 5, private: bool = True) -> TocsinConfig:
    text = (
        "public_url: https://tocsin.example\n"
        "channels:\n"
        f"  mail: {{type: email, host: 127.0.0.1, port: {smtp_port}, security: none,\n"
        "         from_address: status@acme.example, to: [ops@acme.example]}\n"
        + STATUS
        + f"  subscribers: {{secret: {SECRET}, email: mail, per_minute: {per_minute},\n"
        + f"                private_webhooks: {str(private).lower()}}}\n"
    )
    found, _ = parse(text, "test.yaml", env={})
    return found


def run(worker: Worker, step: str, clock: VirtualClock) -> int:
    return next(s for s in worker.steps if s.name == step).run(clock.now())


def worker_of(cfg: TocsinConfig, factory: sessionmaker[Session], clock: VirtualClock) -> Worker:
    return Worker(cfg, factory, clock, worker_id="w", console_write=lambda _l: None, threads=False)


def tell(worker: Worker, clock: VirtualClock) -> int:
    """One round of the worker's two subscriber steps; the deliveries sent."""
    run(worker, "status notices", clock)
    return run(worker, "status deliveries", clock)


@pytest.fixture
def hooks() -> Iterator[list[Loopback]]:
    servers = [Loopback() for _ in range(3)]
    yield servers
    for server in servers:
        server.stop()


def test_email_needs_its_confirmation_and_leaves_in_one_click(
    factory: sessionmaker[Session], clock: VirtualClock, make_server: MakeServer
) -> None:
    smtp = make_server()
    cfg = config(smtp.port)
    worker = worker_of(cfg, factory, clock)
    with TestClient(create_app(Settings(cfg, factory, clock))) as http:
        form = {"kind": "email", "address": "Ana@Example.com", "components": "checkout"}
        first = http.post("/status/subscribe", data=form)
        assert first.status_code == 202, first.text
        assert tell(worker, clock) == 1
        (mail,) = smtp.recorder.mails()
        assert mail["To"] == "ana@example.com"
        assert "List-Unsubscribe" not in mail  # a confirmation is no list mail
        confirm = next(w for w in mail.get_content().split() if "/subscribe/confirm?" in w)
        # Not confirmed: an update reaches nobody.
        incident = declare(factory, clock.now())
        post(factory, clock.now(), incident, "Payments fail for some cards.")
        assert tell(worker, clock) == 0
        # Asking again answers the same (whether or not the address is known).
        again = http.post("/status/subscribe", data=form)
        assert (again.status_code, again.text) == (first.status_code, first.text)
        # The link's GET only shows a button (mail scanners open links); the POST confirms.
        path = urlsplit(confirm)
        shown = http.get(f"{path.path}?{path.query}")
        assert shown.status_code == 200
        assert "Confirm" in shown.text
        fields = dict(part.split("=", 1) for part in path.query.split("&"))
        assert http.post(path.path, data={**fields, "token": "0" * 64}).status_code == 400
        assert http.post(path.path, data=fields).status_code == 200
        clock.advance(timedelta(minutes=5))
        post(factory, clock.now(), incident, "A fix is rolling out.", "identified")
        assert tell(worker, clock) == 1
        update = smtp.recorder.mails()[-1]
        assert update["Subject"] == "[Acme] Checkout is failing: identified"
        assert "A fix is rolling out." in update.get_content()
        assert "Payments fail" not in update.get_content()  # told before confirming: not sent
        assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        leave = update["List-Unsubscribe"].strip("<>")
        assert leave.startswith("https://tocsin.example/status/unsubscribe?id=")
        # RFC 8058: a POST of List-Unsubscribe=One-Click to that URL, no cookie, no page.
        target = urlsplit(leave)
        gone = http.post(
            f"{target.path}?{target.query}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert gone.status_code == 200
        post(factory, clock.now(), incident, "Resolved.", "resolved")
        assert tell(worker, clock) == 0
    assert len(smtp.recorder.mails()) == 2


def test_webhooks_are_signed_and_follow_their_components(
    factory: sessionmaker[Session], clock: VirtualClock, hooks: list[Loopback]
) -> None:
    hook, slack, discord = hooks
    cfg = config()
    worker = worker_of(cfg, factory, clock)
    with TestClient(create_app(Settings(cfg, factory, clock))) as http:
        made = http.post(
            "/status/subscribe",
            json={"kind": "webhook", "address": hook.url + "/in", "components": ["checkout"]},
        )
        assert made.status_code == 201, made.text
        key = made.json()["signing_key"]
        for kind, server in (("slack", slack), ("discord", discord)):
            body = {"kind": kind, "address": server.url + "/hook", "components": ["search"]}
            assert http.post("/status/subscribe", json=body).status_code == 201
        listed = http.get("/status").text
        assert hook.url not in listed  # addresses are never shown
    incident = declare(factory, clock.now())
    post(factory, clock.now(), incident, "Payments fail.")
    window(factory, clock.now(), ["search"], timedelta(days=1), timedelta(hours=1), "Reindex")
    assert tell(worker, clock) == 3
    (got,) = hook.requests
    stamp = got.headers["x-tocsin-timestamp"]
    assert got.headers["x-tocsin-signature"] == subscribers.sign(key, stamp, got.body)
    sent = json.loads(got.body)
    assert sent["event"] == "incident_update"
    assert sent["incident"]["id"] == incident
    assert sent["update"]["body"] == "Payments fail."
    assert sent["components"] == ["checkout"]
    (said,) = slack.requests
    assert "Scheduled maintenance: Reindex" in json.loads(said.body)["text"]
    (said,) = discord.requests
    assert "Scheduled maintenance: Reindex" in json.loads(said.body)["content"]
    assert tell(worker, clock) == 0  # each event once


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "pigeon", "address": "a@b.example"}, "kind"),
        ({"kind": "email", "address": "not an address"}, "address"),
        ({"kind": "webhook", "address": "ftp://files.example/x"}, "address"),
        ({"kind": "email", "address": "a@b.example", "components": ["nope"]}, "components"),
        ({"kind": "email", "address": ["a@b.example", 3]}, "address"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    factory: sessionmaker[Session], clock: VirtualClock, body: dict[str, Any], field: str
) -> None:
    with TestClient(create_app(Settings(config(), factory, clock))) as http:
        answer = http.post("/status/subscribe", json=body)
    assert answer.status_code == 400
    assert answer.text.startswith(f'{{"detail":"{field}') or answer.text.startswith(field)
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(StatusSubscriber)) == 0


def test_subscribing_is_rate_limited(factory: sessionmaker[Session], clock: VirtualClock) -> None:
    with TestClient(create_app(Settings(config(per_minute=2), factory, clock))) as http:
        codes = [
            http.post(
                "/status/subscribe", data={"kind": "email", "address": f"u{n}@b.example"}
            ).status_code
            for n in range(3)
        ]
        refused = http.post("/status/subscribe", data={"kind": "email", "address": "x@b.example"})
    assert codes == [202, 202, 429]
    assert int(refused.headers["retry-after"]) >= 1


def test_two_workers_tell_each_subscriber_once(
    pg_database: str, clock: VirtualClock, hooks: list[Loopback]
) -> None:
    engine = make_engine(pg_database)
    truncate(engine)
    engine.dispose()
    cfg = config()
    status = cfg.status
    hook = hooks[0]
    with pair(pg_database) as two:
        with session_scope(two.b) as s:
            for n in range(6):
                url = f"{hook.url}/s{n}"
                subscribers.subscribe(s, status, "u", "webhook", url, [], clock.now())
        incident = declare(two.b, clock.now())
        post(two.b, clock.now(), incident, "Payments fail.")
        a, b = worker_of(cfg, two.a, clock), worker_of(cfg, two.b, clock)
        fanned = collide(
            two,
            lambda: run(a, "status notices", clock),
            lambda: run(b, "status notices", clock),
            two.engines[1],
        )
        sent = collide(
            two,
            lambda: run(a, "status deliveries", clock),
            lambda: run(b, "status deliveries", clock),
            two.engines[1],
        )
        with session_scope(two.b) as s:
            states = s.execute(
                select(StatusDelivery.state, func.count()).group_by(StatusDelivery.state)
            ).all()
    assert sorted(fanned) == [0, 6]
    assert sum(sent) == 6
    assert states == [("sent", 6)]
    assert sorted(r.path for r in hook.requests) == [f"/s{n}" for n in range(6)]  # 0 lost, 0 twice


@pytest.mark.parametrize(
    ("channels", "says"),
    [
        ("mail: {type: console}", "channel 'mail' is not an email channel"),
        ("other: {type: console}", "channel 'mail' does not exist (known: other)"),
    ],
)
def test_the_configuration_names_an_email_channel(channels: str, says: str) -> None:
    text = f"channels:\n  {channels}\nstatus:\n  subscribers: {{secret: {SECRET}, email: mail}}\n"
    with pytest.raises(ConfigError, match="status.subscribers.email: " + re.escape(says)):
        parse(text, "t.yaml", env={})


def test_webhooks_reach_no_private_address_unless_allowed(
    factory: sessionmaker[Session], clock: VirtualClock, hooks: list[Loopback]
) -> None:
    cfg = config(private=False)
    worker = worker_of(cfg, factory, clock)
    with session_scope(factory) as s:
        subscribers.subscribe(s, cfg.status, "u", "webhook", hooks[0].url, [], clock.now())
    post(factory, clock.now(), declare(factory, clock.now()), "Payments fail.")
    assert tell(worker, clock) == 0
    assert hooks[0].requests == []
    with session_scope(factory) as s:
        (delivery,) = s.scalars(select(StatusDelivery)).all()
        assert delivery.state == "failed"  # denied is permanent: not retried
        assert "127.0.0.1" in (delivery.last_error or "")
        assert hooks[0].url not in (delivery.last_error or "")  # the URL is a secret


def test_the_operator_lists_and_removes_subscribers(tmp_path: Path, store_url: str) -> None:
    from typer.testing import CliRunner

    from tocsin.cli import app

    path = tmp_path / "tocsin.yaml"
    path.write_text(f'store: {{url: "{store_url}"}}\n')
    engine = make_engine(store_url)
    secret_url = "https://hooks.slack.com/services/T0001/B0001/Xq7dSm2kLp9vRt4wZy8bNc3f"
    try:
        with session_scope(sessionmaker(engine)) as s:
            status, now = config().status, datetime.now(UTC)
            subscribers.subscribe(s, status, "u", "slack", secret_url, ["checkout"], now)
            later = now + timedelta(seconds=1)
            subscribers.subscribe(s, status, "u", "email", "ana@example.com", [], later)
    finally:
        engine.dispose()
    runner = CliRunner()
    shown = runner.invoke(app, ["status", "subscribers", "--json", "-c", str(path)])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.output)
    assert [(r["kind"], r["state"]) for r in rows] == [
        ("slack", "confirmed"),
        ("email", "unconfirmed"),
    ]
    assert "Xq7dSm2kLp9vRt4wZy8bNc3f" not in shown.output  # the webhook's secret part
    assert rows[1]["address"] == "ana@example.com"
    assert rows[1]["deliveries"] == {"pending": 1}  # its confirmation
    text = runner.invoke(app, ["status", "subscribers", "-c", str(path)])
    assert "Xq7dSm2kLp9vRt4wZy8bNc3f" not in text.output
    gone = runner.invoke(app, ["status", "remove-subscriber", rows[1]["id"], "-c", str(path)])
    assert gone.exit_code == 0, gone.output
    again = runner.invoke(app, ["status", "remove-subscriber", rows[1]["id"], "-c", str(path)])
    assert again.exit_code == 1
    assert "no subscriber" in again.output
    after = json.loads(
        runner.invoke(app, ["status", "subscribers", "--json", "-c", str(path)]).output
    )
    assert [r["kind"] for r in after] == ["slack"]
