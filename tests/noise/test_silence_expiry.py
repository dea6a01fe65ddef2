"""A silence about to expire tells its creator, once, through real channels: the creator's
own addresses when they are a configured user, else the console channels. Every channel
renders the notice as text; PagerDuty skips it without failing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Loopback
from tests.support.noise import Desk, noise_config
from tests.support.smtp import MakeServer

from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.noise import silences
from tocsin.noise.models import Silence
from tocsin.notify.console import format_line
from tocsin.notify.registry import build_channels
from tocsin.outbox.models import Notification
from tocsin.outbox.payload import Message

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.stop()


def every_channel(url: str, smtp_port: int) -> str:
    return f"""
  mail: {{type: email, host: 127.0.0.1, port: {smtp_port}, security: none,
          from_address: tocsin@example.com, to: [team@example.com]}}
  chat: {{type: slack, url: "{url}/slack"}}
  talk: {{type: discord, url: "{url}/discord"}}
  sms: {{type: twilio, url: "{url}", account_sid: AC1, auth_token: tok, from_number: "+15550100",
         to: ["+15550199"]}}
  hook: {{type: webhook, url: "{url}/hook"}}
  pd: {{type: pagerduty, url: "{url}/pd", routing_key: rk}}
users:
  ana: {{email: ana@example.com, phone: "+15550123", slack: U0ANA, discord: "123456789012345678",
        timezone: Europe/Paris}}
"""


def silence_for(desk: Desk, by: str) -> str:
    now = desk.clock.now()
    with session_scope(desk.factory) as s:
        return silences.create_silence(
            s, ['check="orders"', 'env=~"prod.*"'], now, now + HOUR, by, "deploy", now=now
        ).id


def outbox(desk: Desk) -> list[Notification]:
    with session_scope(desk.factory) as s:
        rows = s.scalars(select(Notification).order_by(Notification.channel)).all()
        s.expunge_all()
        return list(rows)


def test_the_creator_is_told_once_on_each_channel_that_reaches_them(
    factory: sessionmaker[Session],
    clock: VirtualClock,
    make_server: MakeServer,
    loopback: Loopback,
) -> None:
    smtp = make_server()
    config, _ = parse(
        "channels:\n  console: {type: console}" + every_channel(loopback.url, smtp.port),
        "expiry.yaml",
        env={},
    )
    desk = Desk(factory, clock, config)
    sid = silence_for(desk, "ana")
    desk.step(40 * MINUTE)
    assert outbox(desk) == []
    desk.step(10 * MINUTE)  # 10 minutes before its end
    desk.step(MINUTE)  # told once, not at every pass
    rows = outbox(desk)
    assert [(r.channel, r.target, r.alert_id) for r in rows] == [
        ("chat", "U0ANA", None),
        ("mail", "ana@example.com", None),
        ("sms", "+15550123", None),
        ("talk", "123456789012345678", None),
    ]
    text = (
        f'Silence {sid} (check="orders", env=~"prod.*") you created ends at 2026-11-17 16:00 CET; '
        "extend it with `tocsin silence add 'check=\"orders\"' 'env=~\"prod.*\"' --for 1h "
        "--by ana --comment deploy` or let it expire."
    )
    assert {r.payload["message"] for r in rows} == {text}
    assert rows[0].payload["event"] == "silence_expiring"
    assert rows[0].payload["silence"]["id"] == sid

    channels = build_channels(config)
    for row in rows:
        channels[row.channel].send(Message(row.id, row.channel, row.target, row.payload))
    (mail,) = smtp.recorder.mails()
    assert smtp.recorder.envelopes[0].rcpt_tos == ["ana@example.com"]
    assert mail["Subject"] == f"[Tocsin] Silence {sid} ends at 2026-11-17 16:00 CET"
    body = mail.get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == text
    by_path = {r.path: r for r in loopback.requests}
    slack = json.loads(by_path["/slack"].body)
    assert slack["text"].startswith("<@U0ANA> Silence ")
    assert "&lt;" not in slack["text"]
    assert "Acknowledge" not in json.dumps(slack)
    discord = json.loads(by_path["/discord"].body)
    assert discord["content"] == "<@123456789012345678>"
    assert discord["allowed_mentions"] == {"parse": [], "users": ["123456789012345678"]}
    assert discord["embeds"][0]["description"] == text
    sms = parse_qs(by_path["/2010-04-01/Accounts/AC1/Messages.json"].body.decode())
    assert sms["To"] == ["+15550123"]
    assert sms["Body"] == [f"[Tocsin] {text}"]
    with session_scope(factory) as s:
        assert s.get(Silence, sid).warned_at == clock.now() - MINUTE  # type: ignore[union-attr]


def test_a_creator_who_is_no_user_is_told_on_the_console_channels(
    factory: sessionmaker[Session], clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    desk = Desk(factory, clock, noise_config())
    with caplog.at_level(logging.WARNING, "tocsin.noise"):
        sid = silence_for(desk, "bob")
        alert = desk.fire("orders", {"env": "prod"})
        desk.step(50 * MINUTE)
        desk.step(MINUTE)
    rows = outbox(desk)
    assert [(r.channel, r.target) for r in rows] == [("console", None), ("pager", None)]
    line = format_line(Message(rows[0].id, "console", None, rows[0].payload))
    assert line.startswith(f"⏳ [{rows[0].payload['at']}] NOTICE: Silence {sid} (")
    assert "created by bob ends at 2026-11-17 15:00 UTC" in line
    assert "(alert None)" not in line
    assert [k for k, _ in desk.timeline(alert)] == ["fired", "suppressed", "silence_expiring"]
    assert sum("expires in" in r.getMessage() for r in caplog.records) == 1


def test_webhooks_get_the_notice_and_pagerduty_skips_it(
    factory: sessionmaker[Session], clock: VirtualClock, loopback: Loopback
) -> None:
    config, _ = parse(
        f"""
channels:
  console: {{type: console}}
  hook: {{type: webhook, url: "{loopback.url}/hook"}}
  pd: {{type: pagerduty, url: "{loopback.url}/pd", routing_key: rk}}
""",
        "expiry.yaml",
        env={},
    )
    desk = Desk(factory, clock, config)
    sid = silence_for(desk, "carol")
    desk.step(50 * MINUTE)
    (row,) = outbox(desk)
    payload: dict[str, Any] = dict(row.payload)
    channels = build_channels(config)
    for name in ("hook", "pd"):
        channels[name].send(Message(row.id, name, None, payload))
    ((request,),) = [[r for r in loopback.requests]]
    assert request.path == "/hook"
    body = json.loads(request.body)
    assert (body["event"], body["alert_id"], body["silence"]["id"]) == (
        "silence_expiring",
        None,
        sid,
    )
    assert request.headers["idempotency-key"] == row.id
