"""The contract every HTTP channel keeps, checked against a real loopback server.

Success and the exact body the service receives; 4xx permanent; 5xx, timeouts and 429 retried
(429 with its Retry-After); the same idempotency or dedup key on every send of one
notification; a huge alert cut to the service's limits; no webhook URL in any error.

Twilio is in the contract too, with one difference it cannot help: its Messages API takes no
idempotency key, so "the same key" for Twilio means the same number and the same text (the
outbox writes one row per number, so a retry re-sends to that one number only).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from tests.support.loopback import Answer, Loopback, Received

from tocsin.config import (
    DiscordChannelConfig,
    PagerDutyChannelConfig,
    SlackChannelConfig,
    TwilioChannelConfig,
    WebhookChannelConfig,
)
from tocsin.egress import Egress, TransportError
from tocsin.notify.base import Channel
from tocsin.notify.discord import DiscordChannel
from tocsin.notify.pagerduty import PagerDutyChannel
from tocsin.notify.slack import SlackChannel
from tocsin.notify.twilio import TwilioChannel
from tocsin.notify.webhook import WebhookChannel
from tocsin.outbox.payload import Message

PUBLIC_URL = "https://tocsin.example"
SECRET_PATH = "/hooks/T0K3N-s3cr3t"
# Long enough for a 20,000-character message on a loaded machine, short beside the 3 s delays.
TIMEOUT = timedelta(seconds=1.0)
ACK_URL = f"{PUBLIC_URL}/ack/MTIuMTc5NDkyNzYwMA.signature"
SENT_AT = datetime(2026, 11, 17, 14, 0, 5, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return SENT_AT


def alert_message(**changes: Any) -> Message:
    payload: dict[str, Any] = {
        "version": 1,
        "alert_id": 12,
        "fingerprint": "fp-abc",
        "event": "fired",
        "event_id": 34,
        "at": "2026-11-17T14:00:00+00:00",
        "state": "firing",
        "severity": "CRITICAL",
        "title": "Payment processing down",
        "message": "No orders in 10 minutes",
        "value": 0.0,
        "labels": {"service": "checkout", "env": "prod"},
        "check": "orders_flowing",
        "runbook": "payment-processing-failure",
        "actor": None,
        "note": None,
        "ack_url": ACK_URL,
    }
    payload.update(changes)
    return Message(id="6f1c2b7e-notification", channel="under-test", target=None, payload=payload)


RUNBOOK_URL = f"{PUBLIC_URL}/runbooks/payment-processing-failure"


def discord_body(message: Message) -> dict[str, Any]:
    return {
        "content": "@here",
        "allowed_mentions": {"parse": ["everyone"]},
        "embeds": [
            {
                "title": "CRITICAL: Payment processing down",
                "description": "No orders in 10 minutes",
                "color": 15158332,
                "fields": [
                    {"name": "Severity", "value": "CRITICAL", "inline": True},
                    {"name": "State", "value": "firing", "inline": True},
                    {"name": "Value", "value": "0", "inline": True},
                    {"name": "Check", "value": "orders_flowing", "inline": True},
                    {"name": "Alert", "value": "#12", "inline": True},
                    {
                        "name": "Runbook",
                        "value": f"[payment-processing-failure]({RUNBOOK_URL})",
                        "inline": True,
                    },
                    {
                        "name": "Acknowledge",
                        "value": f"[acknowledge in Tocsin]({ACK_URL})",
                        "inline": True,
                    },
                    {"name": "Labels", "value": "`env=prod`\n`service=checkout`", "inline": False},
                ],
                "timestamp": "2026-11-17T14:00:00+00:00",
                "footer": {"text": "Tocsin"},
            }
        ],
    }


def slack_body(message: Message) -> dict[str, Any]:
    def field(text: str) -> dict[str, str]:
        return {"type": "mrkdwn", "text": text}

    return {
        "text": "CRITICAL: Payment processing down — No orders in 10 minutes",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "CRITICAL: Payment processing down"},
            },
            {"type": "section", "text": field("No orders in 10 minutes")},
            {
                "type": "section",
                "fields": [
                    field("*Severity*\nCRITICAL"),
                    field("*State*\nfiring"),
                    field("*Value*\n0"),
                    field("*Check*\norders_flowing"),
                    field("*Alert*\n#12"),
                    field(f"*Runbook*\n<{RUNBOOK_URL}|payment-processing-failure>"),
                ],
            },
            {
                "type": "context",
                "elements": [
                    field("`env=prod`  `service=checkout`"),
                    field(
                        "<!date^1794924000^{date_short_pretty} {time}|2026-11-17T14:00:00+00:00>"
                    ),
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "acknowledge",
                        "text": {"type": "plain_text", "text": "Acknowledge"},
                        "url": ACK_URL,
                        "style": "primary",
                    }
                ],
            },
        ],
    }


def pagerduty_body(message: Message) -> dict[str, Any]:
    return {
        "routing_key": "R0UTING-KEY",
        "event_action": "trigger",
        "dedup_key": "tocsin-12",
        "client": "Tocsin",
        "payload": {
            "summary": "Payment processing down",
            "source": "orders_flowing",
            "severity": "critical",
            "timestamp": "2026-11-17T14:00:00+00:00",
            "custom_details": {
                "env": "prod",
                "service": "checkout",
                "message": "No orders in 10 minutes",
                "value": 0.0,
                "alert_id": 12,
                "notification_id": message.id,
            },
        },
        "links": [
            {"href": RUNBOOK_URL, "text": "Runbook"},
            {"href": ACK_URL, "text": "Acknowledge in Tocsin"},
        ],
    }


def webhook_body(message: Message) -> dict[str, Any]:
    return {"version": 1, "notification_id": message.id, **message.payload}


TWILIO_PATH = f"{SECRET_PATH}/2010-04-01/Accounts/AC0123/Messages.json"


def twilio_body(message: Message) -> dict[str, Any]:
    return {
        "To": "+15550100001",
        "From": "+15550000000",
        "Body": "[CRITICAL] FIRING: Payment processing down\nNo orders in 10 minutes\n"
        "Runbook: payment-processing-failure\nAlert 12",
    }


def check_twilio_limits(body: dict[str, Any]) -> None:
    assert len(body["Body"]) <= 1600
    assert body["Body"].endswith("…")


def check_discord_limits(body: dict[str, Any]) -> None:
    assert len(body["content"]) <= 2000
    (embed,) = body["embeds"]
    assert len(embed["title"]) <= 256
    assert len(embed.get("description", "")) <= 4096
    assert len(embed["fields"]) <= 25
    for field in embed["fields"]:
        assert 0 < len(field["name"]) <= 256
        assert 0 < len(field["value"]) <= 1024
    assert len(embed["footer"]["text"]) <= 2048
    total = (
        len(embed["title"])
        + len(embed.get("description", ""))
        + len(embed["footer"]["text"])
        + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    )
    assert total <= 6000
    assert embed["title"].endswith("…")
    assert embed["description"].endswith("…")


def check_slack_limits(body: dict[str, Any]) -> None:
    assert len(body["text"]) <= 4000
    assert len(body["blocks"]) <= 50
    for block in body["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
            assert block["text"]["text"].endswith("…")
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "section" and "fields" in block:
            assert len(block["fields"]) <= 10
            assert all(len(f["text"]) <= 2000 for f in block["fields"])
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
        if block["type"] == "actions":
            assert all(len(e["url"]) <= 3000 for e in block["elements"])


def check_pagerduty_limits(body: dict[str, Any]) -> None:
    assert len(body["payload"]["summary"]) <= 1024
    assert body["payload"]["summary"].endswith("…")
    assert len(body["payload"]["source"]) <= 255
    assert len(body["dedup_key"]) <= 255
    assert len(json.dumps(body).encode()) <= 512 * 1024


def check_webhook_limits(body: dict[str, Any]) -> None:
    # Our own format has no limits to meet: the receiver gets the alert whole.
    assert len(body["title"]) == 20_000
    assert len(body["message"]) == 20_000


@dataclass(frozen=True)
class Case:
    kind: str
    build: Callable[[str, Egress], Channel]
    expected_body: Callable[[Message], dict[str, Any]]
    key: Callable[[Received], str]
    expected_key: Callable[[Message], str]
    check_limits: Callable[[dict[str, Any]], None]
    ok: Answer
    path: str = SECRET_PATH
    content_type: str = "application/json"


def body_of(request: Received) -> dict[str, Any]:
    if request.headers.get("content-type") == "application/x-www-form-urlencoded":
        return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    decoded: dict[str, Any] = json.loads(request.body)
    return decoded


CASES = [
    Case(
        "discord",
        lambda url, client: DiscordChannel(
            "ops",
            DiscordChannelConfig(type="discord", url=url, timeout=TIMEOUT),
            client,
            PUBLIC_URL,
        ),
        discord_body,
        lambda request: request.headers["x-tocsin-notification-id"],
        lambda message: message.id,
        check_discord_limits,
        Answer(204),
    ),
    Case(
        "slack",
        lambda url, client: SlackChannel(
            "ops", SlackChannelConfig(type="slack", url=url, timeout=TIMEOUT), client, PUBLIC_URL
        ),
        slack_body,
        lambda request: request.headers["x-tocsin-notification-id"],
        lambda message: message.id,
        check_slack_limits,
        Answer(200, b"ok"),
    ),
    Case(
        "pagerduty",
        lambda url, client: PagerDutyChannel(
            "pager",
            PagerDutyChannelConfig(
                type="pagerduty", routing_key="R0UTING-KEY", url=url, timeout=TIMEOUT
            ),
            client,
            PUBLIC_URL,
        ),
        pagerduty_body,
        lambda request: body_of(request)["dedup_key"],
        lambda message: f"tocsin-{message.payload['alert_id']}",
        check_pagerduty_limits,
        Answer(202, b'{"status":"success","message":"Event processed","dedup_key":"tocsin-12"}'),
    ),
    Case(
        "webhook",
        lambda url, client: WebhookChannel(
            "hook",
            WebhookChannelConfig(type="webhook", url=url, timeout=TIMEOUT, secret="shh"),
            client,
            FixedClock(),
        ),
        webhook_body,
        lambda request: request.headers["idempotency-key"],
        lambda message: message.id,
        check_webhook_limits,
        Answer(200),
    ),
    Case(
        "twilio",
        lambda url, client: TwilioChannel(
            "sms",
            TwilioChannelConfig(
                type="twilio",
                account_sid="AC0123",
                auth_token="s3cr3t-token",
                from_number="+15550000000",
                to=["+15550100001"],
                url=url,
                timeout=TIMEOUT,
            ),
            client,
        ),
        twilio_body,
        lambda request: body_of(request)["To"] + "|" + body_of(request)["Body"],
        lambda message: "+15550100001|" + twilio_body(message)["Body"],
        check_twilio_limits,
        Answer(201, b'{"sid": "SM1", "status": "queued"}'),
        TWILIO_PATH,
        "application/x-www-form-urlencoded",
    ),
]


@pytest.fixture
def server() -> Iterator[Loopback]:
    loopback = Loopback()
    yield loopback
    loopback.stop()


@pytest.fixture
def client() -> Iterator[Egress]:
    with Egress() as shared:
        yield shared


@pytest.fixture(params=CASES, ids=lambda case: case.kind)
def case(request: pytest.FixtureRequest) -> Case:
    chosen: Case = request.param
    return chosen


def channel_for(case: Case, server: Loopback, client: Egress) -> Channel:
    return case.build(server.url + SECRET_PATH, client)


def failure(channel: Channel, message: Message | None = None) -> TransportError:
    with pytest.raises(TransportError) as caught:
        channel.send(message or alert_message())
    return caught.value


def test_it_delivers_the_documented_body(case: Case, server: Loopback, client: Egress) -> None:
    server.answer = case.ok
    message = alert_message()

    channel_for(case, server, client).send(message)

    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == case.path
    assert request.headers["content-type"] == case.content_type
    assert body_of(request) == case.expected_body(message)


def test_a_4xx_is_permanent(case: Case, server: Loopback, client: Egress) -> None:
    server.answer = Answer(400, b"invalid_payload")

    error = failure(channel_for(case, server, client))

    assert error.permanent
    assert error.retry_after is None


def test_a_500_is_retried(case: Case, server: Loopback, client: Egress) -> None:
    server.answer = Answer(500, b"oops")

    error = failure(channel_for(case, server, client))

    assert not error.permanent


def test_a_timeout_is_retried(case: Case, server: Loopback, client: Egress) -> None:
    server.answer = Answer(200, delay=3.0)

    error = failure(channel_for(case, server, client))

    assert not error.permanent
    assert "timed out" in str(error)


def test_a_429_is_retried_after_what_the_service_asks(
    case: Case, server: Loopback, client: Egress
) -> None:
    server.answer = Answer(429, b"slow down", {"Retry-After": "7"})

    error = failure(channel_for(case, server, client))

    assert not error.permanent
    assert error.retry_after == timedelta(seconds=7)


def test_two_sends_of_one_notification_carry_the_same_key(
    case: Case, server: Loopback, client: Egress
) -> None:
    server.answer = case.ok
    channel = channel_for(case, server, client)
    message = alert_message()

    channel.send(message)
    channel.send(message)

    first, second = server.requests
    assert case.key(first) == case.key(second) == case.expected_key(message)


def test_a_huge_alert_is_cut_to_the_services_limits(
    case: Case, server: Loopback, client: Egress
) -> None:
    server.answer = case.ok
    labels = {f"label_{i:03}": "x" * 100 for i in range(200)}
    message = alert_message(title="T" * 20_000, message="M" * 20_000, labels=labels)

    channel_for(case, server, client).send(message)

    (request,) = server.requests
    case.check_limits(body_of(request))


@pytest.mark.parametrize(
    "answer",
    [Answer(401, b"no"), Answer(503, b"down"), Answer(200, delay=3.0)],
    ids=["401", "503", "timeout"],
)
def test_no_error_shows_the_secret_url(
    case: Case, server: Loopback, client: Egress, answer: Answer
) -> None:
    server.answer = answer

    error = failure(channel_for(case, server, client))

    assert "s3cr3t" not in str(error)
    assert server.url not in str(error)


def test_an_error_that_echoes_the_request_shows_none_of_its_secrets(
    case: Case, server: Loopback, client: Egress
) -> None:
    # A misbehaving service or proxy answering with everything it was sent.
    server.answer = Answer(400, b"rejected: ", echo=True)

    error = failure(channel_for(case, server, client))

    assert "rejected: POST" in str(error)
    for secret in ("T0K3N-s3cr3t", "R0UTING-KEY", "s3cr3t-token"):
        assert secret not in str(error)


def test_an_unreachable_service_is_retried_without_showing_its_url(
    case: Case, client: Egress
) -> None:
    gone = Loopback()
    url = gone.url
    gone.stop()

    error = failure(case.build(url + SECRET_PATH, client))

    assert not error.permanent
    assert "s3cr3t" not in str(error)
    assert url not in str(error)


def test_the_webhook_signature_verifies_with_the_shared_secret(
    server: Loopback, client: Egress
) -> None:
    channel = WebhookChannel(
        "hook",
        WebhookChannelConfig(type="webhook", url=server.url, secret="shh", headers={"X-Team": "a"}),
        client,
        FixedClock(),
    )

    channel.send(alert_message())

    (request,) = server.requests
    timestamp = request.headers["x-tocsin-timestamp"]
    assert timestamp == str(int(SENT_AT.timestamp()))
    expected = hmac.new(b"shh", timestamp.encode() + b"." + request.body, hashlib.sha256)
    assert hmac.compare_digest(
        request.headers["x-tocsin-signature"], "sha256=" + expected.hexdigest()
    )
    assert request.headers["x-team"] == "a"
