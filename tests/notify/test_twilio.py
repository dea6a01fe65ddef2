"""The Twilio channel against a real loopback server standing in for api.twilio.com."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from tests.support.loopback import Answer, Loopback, Received

from tocsin.config import TwilioChannelConfig
from tocsin.egress import Egress, TransportError
from tocsin.notify.twilio import MAX_SMS_CHARS, TwilioChannel
from tocsin.outbox.payload import Message

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "s3cr3t-auth-token-do-not-leak"
FROM = "+15005550006"


@pytest.fixture
def server() -> Iterator[Loopback]:
    loopback = Loopback()
    loopback.json({"sid": "SM123", "status": "queued"}, status=201)
    yield loopback
    loopback.stop()


@pytest.fixture
def client() -> Iterator[Egress]:
    with Egress() as c:
        yield c


def channel(
    server: Loopback, client: Egress, *, mode: str = "sms", **options: Any
) -> TwilioChannel:
    config = TwilioChannelConfig(
        type="twilio",
        mode=mode,  # type: ignore[arg-type]
        account_sid=SID,
        auth_token=TOKEN,
        from_number=FROM,
        to=options.pop("to", ["+15551230001"]),
        url=server.url,
        **options,
    )
    return TwilioChannel("pager", config, client)


def message(target: str | None = None, **payload: Any) -> Message:
    body: dict[str, Any] = {
        "version": 1,
        "alert_id": 42,
        "event": "fired",
        "severity": "CRITICAL",
        "title": "Checkout error rate high",
        "message": "error rate 12%",
        "runbook": "checkout-errors",
        "state": "firing",
        "actor": None,
    }
    body.update(payload)
    return Message(id="n-1", channel="pager", target=target, payload=body)


def form(request: Received) -> dict[str, str]:
    fields = parse_qs(request.body.decode(), keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in fields.values())
    return {name: values[0] for name, values in fields.items()}


def failure(server: Loopback, client: Egress, **options: Any) -> TransportError:
    with pytest.raises(TransportError) as caught:
        channel(server, client, **options).send(message())
    return caught.value


def test_an_sms_posts_the_form_fields_with_basic_auth_to_the_accounts_messages(
    server: Loopback, client: Egress
) -> None:
    channel(server, client).send(message())

    [request] = server.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    fields = form(request)
    assert set(fields) == {"To", "From", "Body"}
    assert fields["To"] == "+15551230001"
    assert fields["From"] == FROM
    assert fields["Body"] == (
        "[CRITICAL] FIRING: Checkout error rate high\n"
        "error rate 12%\n"
        "Runbook: checkout-errors\n"
        "Alert 42"
    )


def test_every_configured_number_gets_its_own_message(server: Loopback, client: Egress) -> None:
    channel(server, client, to=["+15551230001", "+15551230002"]).send(message())

    assert [form(r)["To"] for r in server.requests] == ["+15551230001", "+15551230002"]


def test_a_message_with_a_target_goes_to_that_number_only(server: Loopback, client: Egress) -> None:
    channel(server, client, to=["+15551230001", "+15551230002"]).send(
        message(target="+15551230002")
    )

    assert [form(r)["To"] for r in server.requests] == ["+15551230002"]


def test_sms_is_sent_for_resolutions_too(server: Loopback, client: Egress) -> None:
    channel(server, client).send(message(event="resolved", state="resolved"))

    assert form(server.requests[0])["Body"].startswith("[CRITICAL] RESOLVED: ")


def test_a_long_sms_is_cut_to_1600_characters_with_a_marker(
    server: Loopback, client: Egress
) -> None:
    channel(server, client).send(message(message="x" * 5000))

    body = form(server.requests[0])["Body"]
    assert len(body) == MAX_SMS_CHARS
    assert body.endswith("x…")


def test_a_voice_call_speaks_escaped_twiml_to_the_calls_resource(
    server: Loopback, client: Egress
) -> None:
    channel(server, client, mode="voice").send(message(title="Disk <sda> & <sdb> full"))

    [request] = server.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Calls.json"
    fields = form(request)
    assert set(fields) == {"To", "From", "Twiml"}
    assert fields["Twiml"] == (
        "<Response><Say>Tocsin alert. Severity critical. Disk &lt;sda&gt; &amp; &lt;sdb&gt; "
        "full. Press nothing; acknowledge in Tocsin.</Say></Response>"
    )


@pytest.mark.parametrize("event", ["severity_changed", "acknowledged", "resolved"])
def test_nobody_is_called_for_anything_but_a_fired_alert(
    server: Loopback, client: Egress, event: str
) -> None:
    channel(server, client, mode="voice").send(message(event=event))

    assert server.requests == []


def test_a_400_is_permanent(server: Loopback, client: Egress) -> None:
    server.json({"code": 21211, "message": "The 'To' number is not valid.", "status": 400}, 400)

    error = failure(server, client)

    assert error.permanent
    assert "400" in str(error)
    assert "21211" in str(error)


def test_a_500_is_retried(server: Loopback, client: Egress) -> None:
    server.answer = Answer(status=500, body=b"oops")

    error = failure(server, client)

    assert not error.permanent


def test_a_timeout_is_retried(server: Loopback, client: Egress) -> None:
    server.answer = Answer(status=201, delay=2.0)

    error = failure(server, client, timeout=timedelta(milliseconds=200))

    assert not error.permanent
    assert "timed out" in str(error)


def test_a_429_honours_retry_after(server: Loopback, client: Egress) -> None:
    server.answer = Answer(status=429, body=b"{}", headers={"Retry-After": "30"})

    error = failure(server, client)

    assert not error.permanent
    assert error.retry_after == timedelta(seconds=30)


def test_a_failure_part_way_says_which_number_failed(server: Loopback, client: Egress) -> None:
    server.answer = Answer(status=503, body=b"busy")

    error = failure(server, client, to=["+15551230001", "+15551230002"])

    assert "number 1 of 2" in str(error)
    assert "+1555" not in str(error)


def test_error_text_never_contains_the_auth_token(server: Loopback, client: Egress) -> None:
    # A misbehaving proxy that echoes the request's credentials back.
    basic = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    server.json({"message": f"bad credentials {TOKEN} (Basic {basic})"}, 401)

    error = failure(server, client)

    assert error.permanent
    assert TOKEN not in str(error)
    assert basic not in str(error)
