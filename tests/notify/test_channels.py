"""What each channel says for each kind of alert transition (bodies built without a network)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.loopback import Loopback

from tocsin.config import DiscordChannelConfig, SlackChannelConfig, WebhookChannelConfig
from tocsin.egress import Egress, TransportError
from tocsin.notify import discord, pagerduty, slack
from tocsin.notify.webhook import WebhookChannel, encode_body
from tocsin.outbox.payload import Message

PUBLIC_URL = "https://tocsin.example"
EVENT_STATES = {
    "fired": "firing",
    "severity_changed": "firing",
    "acknowledged": "acknowledged",
    "resolved": "resolved",
}


def alert_message(event: str = "fired", severity: str = "CRITICAL", **changes: Any) -> Message:
    payload: dict[str, Any] = {
        "version": 1,
        "alert_id": 12,
        "fingerprint": "fp-abc",
        "event": event,
        "event_id": 34,
        "at": "2026-11-17T14:00:00+00:00",
        "state": EVENT_STATES[event],
        "severity": severity,
        "title": "Payment processing down",
        "message": "No orders in 10 minutes",
        "value": 0.0,
        "labels": {"service": "checkout"},
        "check": "orders_flowing",
        "runbook": None,
        "actor": None,
        "note": None,
        "ack_url": "https://tocsin.example/ack/MTIuMTc5NDkyNzYwMA.sig",
    }
    payload.update(changes)
    return Message(id="n-1", channel="test", target=None, payload=payload)


def discord_body(
    message: Message, mention: str = "@here", footer: str = "Tocsin"
) -> dict[str, Any]:
    config = DiscordChannelConfig(
        type="discord", url="https://discord.invalid/x", critical_mention=mention, footer=footer
    )
    return discord.build_body(message.payload, config, PUBLIC_URL)


# --- Discord --------------------------------------------------------------------------------


@pytest.mark.parametrize("severity", ["CRITICAL", "HIGH", "WARNING", "INFO"])
@pytest.mark.parametrize("event", ["fired", "severity_changed", "acknowledged", "resolved"])
def test_discord_mentions_here_only_when_a_critical_alert_fires(severity: str, event: str) -> None:
    body = discord_body(alert_message(event, severity))

    if severity == "CRITICAL" and event == "fired":
        assert body["content"] == "@here"
        assert body["allowed_mentions"] == {"parse": ["everyone"]}
    else:
        assert body["content"] == ""
        assert body["allowed_mentions"] == {"parse": []}


def test_discord_can_mention_a_role_instead_and_pings_only_that_role() -> None:
    body = discord_body(alert_message(), mention="<@&123456789>")

    assert body["content"] == "<@&123456789>"
    assert body["allowed_mentions"] == {"parse": [], "roles": ["123456789"]}


def test_an_everyone_in_an_alerts_text_never_pings() -> None:
    body = discord_body(alert_message("resolved", title="@everyone look", message="@here"))

    assert body["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize(
    ("severity", "colour"),
    [("CRITICAL", 15158332), ("HIGH", 15105570), ("WARNING", 16776960), ("INFO", 3447003)],
)
def test_discord_colours_follow_severity_and_turn_green_when_resolved(
    severity: str, colour: int
) -> None:
    assert discord_body(alert_message("fired", severity))["embeds"][0]["color"] == colour
    assert discord_body(alert_message("acknowledged", severity))["embeds"][0]["color"] == colour
    assert discord_body(alert_message("resolved", severity))["embeds"][0]["color"] == 3066993


@pytest.mark.parametrize(
    ("event", "title"),
    [
        ("fired", "HIGH: Payment processing down"),
        ("severity_changed", "HIGH: Payment processing down"),
        ("acknowledged", "ACKNOWLEDGED: Payment processing down"),
        ("resolved", "RESOLVED: Payment processing down"),
    ],
)
def test_discord_titles_say_what_happened(event: str, title: str) -> None:
    assert discord_body(alert_message(event, "HIGH"))["embeds"][0]["title"] == title


def test_discord_shows_who_acknowledged_and_their_note() -> None:
    message = alert_message("acknowledged", actor="ana", note="on it")

    fields = discord_body(message)["embeds"][0]["fields"]

    assert {"name": "By", "value": "ana", "inline": True} in fields
    assert {"name": "Note", "value": "on it", "inline": False} in fields


def test_a_long_discord_footer_is_cut_not_refused() -> None:
    footer = discord_body(alert_message(), footer="F" * 3000)["embeds"][0]["footer"]["text"]

    assert len(footer) == 2048
    assert footer.endswith("…")


def test_a_runbook_url_is_linked_as_given() -> None:
    message = alert_message(runbook="https://wiki.example/payments")

    fields = discord_body(message)["embeds"][0]["fields"]

    assert {
        "name": "Runbook",
        "value": "[https://wiki.example/payments](https://wiki.example/payments)",
        "inline": True,
    } in fields


def test_a_targeted_discord_message_mentions_that_user_and_lets_only_them_through() -> None:
    message = alert_message("fired", "CRITICAL")

    config = DiscordChannelConfig(type="discord", url="https://discord.invalid/x")
    body = discord.build_body(message.payload, config, PUBLIC_URL, target="111111111111111111")

    assert body["content"] == "<@111111111111111111>"
    assert body["allowed_mentions"] == {"parse": [], "users": ["111111111111111111"]}


def test_a_discord_target_that_is_not_a_user_id_is_a_permanent_failure() -> None:
    config = DiscordChannelConfig(type="discord", url="https://discord.invalid/x")

    with pytest.raises(TransportError, match="not a Discord user id") as caught:
        discord.build_body(alert_message().payload, config, PUBLIC_URL, target="@everyone")

    assert caught.value.permanent


# --- Slack ----------------------------------------------------------------------------------


def test_a_targeted_slack_message_mentions_that_member_and_is_sent_so() -> None:
    server = Loopback()
    try:
        config = SlackChannelConfig(type="slack", url=server.url)
        fired = alert_message()
        with Egress() as client:
            slack.SlackChannel("slack", config, client, PUBLIC_URL).send(
                Message(fired.id, fired.channel, "U0ANA0001", fired.payload)
            )
    finally:
        server.stop()

    (request,) = server.requests
    body = json.loads(request.body)
    assert body["text"].startswith("<@U0ANA0001> CRITICAL: Payment processing down")
    assert body["blocks"][1] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "<@U0ANA0001>"},
    }


def test_a_slack_message_without_a_target_mentions_nobody() -> None:
    body = slack.build_body(alert_message().payload, PUBLIC_URL)

    assert "<@" not in json.dumps(body)


def test_a_slack_target_that_is_not_a_member_id_is_a_permanent_failure() -> None:
    with pytest.raises(TransportError, match="not a Slack member id") as caught:
        slack.build_body(alert_message().payload, PUBLIC_URL, target="!channel")

    assert caught.value.permanent


def slack_actions(message: Message) -> list[dict[str, Any]]:
    blocks = slack.build_body(message.payload, PUBLIC_URL)["blocks"]
    return [block for block in blocks if block["type"] == "actions"]


@pytest.mark.parametrize("event", ["fired", "severity_changed"])
def test_slack_offers_an_acknowledge_button_while_the_alert_fires(event: str) -> None:
    (actions,) = slack_actions(alert_message(event))

    (button,) = actions["elements"]
    assert button["text"]["text"] == "Acknowledge"
    assert button["url"] == "https://tocsin.example/ack/MTIuMTc5NDkyNzYwMA.sig"


@pytest.mark.parametrize("event", ["acknowledged", "resolved"])
def test_slack_drops_the_button_once_the_alert_is_acknowledged_or_resolved(event: str) -> None:
    assert slack_actions(alert_message(event)) == []


def test_slack_escapes_an_alerts_text_so_it_cannot_ping_the_channel() -> None:
    body = slack.build_body(alert_message(message="<!channel> & co").payload, PUBLIC_URL)

    section = body["blocks"][1]
    assert section["text"]["text"] == "&lt;!channel&gt; &amp; co"
    assert "<!channel>" not in body["text"]


def test_slack_never_leaves_half_an_escape_at_a_cut() -> None:
    text = slack.clip_mrkdwn(slack.escape("x" * 2997 + "&&&&"), 3000)

    assert len(text) <= 3000
    assert text.endswith("x…")


# --- PagerDuty ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "action"),
    [
        ("fired", "trigger"),
        ("severity_changed", "trigger"),
        ("acknowledged", "acknowledge"),
        ("resolved", "resolve"),
    ],
)
def test_pagerduty_maps_each_event_to_its_action_on_one_incident_per_alert(
    event: str, action: str
) -> None:
    body = pagerduty.build_body(alert_message(event), "RK", PUBLIC_URL)

    assert body["event_action"] == action
    assert body["dedup_key"] == "tocsin-12"
    if action != "trigger":
        assert body == {"routing_key": "RK", "event_action": action, "dedup_key": "tocsin-12"}


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("CRITICAL", "critical"), ("HIGH", "error"), ("WARNING", "warning"), ("INFO", "info")],
)
def test_pagerduty_severities(severity: str, expected: str) -> None:
    body = pagerduty.build_body(alert_message("fired", severity), "RK", PUBLIC_URL)

    assert body["payload"]["severity"] == expected


def test_pagerduty_links_the_runbook_and_the_ack_page_and_names_a_source_without_a_check() -> None:
    message = alert_message(runbook="db-emergency", check=None)

    body = pagerduty.build_body(message, "RK", PUBLIC_URL)

    assert body["links"] == [
        {"href": f"{PUBLIC_URL}/runbooks/db-emergency", "text": "Runbook"},
        {"href": message.payload["ack_url"], "text": "Acknowledge in Tocsin"},
    ]
    assert body["payload"]["source"] == "tocsin"


def test_a_label_cannot_hide_the_notification_id_from_pagerduty() -> None:
    message = alert_message(labels={"notification_id": "forged", "message": "forged"})

    details = pagerduty.build_body(message, "RK", PUBLIC_URL)["payload"]["custom_details"]

    assert details["notification_id"] == "n-1"
    assert details["message"] == "No orders in 10 minutes"


def test_an_unknown_event_is_a_permanent_failure_for_pagerduty() -> None:
    fired = alert_message()
    noted = Message(fired.id, fired.channel, None, {**fired.payload, "event": "noted"})

    with pytest.raises(TransportError) as caught:
        pagerduty.build_body(noted, "RK", PUBLIC_URL)

    assert caught.value.permanent


# --- webhook --------------------------------------------------------------------------------


def test_the_webhook_body_starts_with_its_version_and_notification_id() -> None:
    assert encode_body(alert_message()).startswith(b'{"version":1,"notification_id":"n-1",')


def test_configured_webhook_headers_cannot_replace_the_signed_ones() -> None:
    server = Loopback()
    try:
        config = WebhookChannelConfig(
            type="webhook",
            url=server.url,
            headers={"idempotency-key": "mine", "X-Tocsin-Timestamp": "0", "X-Team": "a"},
        )
        with Egress() as client:
            WebhookChannel("hook", config, client).send(alert_message())
    finally:
        server.stop()

    (request,) = server.requests
    assert request.headers["idempotency-key"] == "n-1"
    assert request.headers["x-tocsin-timestamp"] != "0"
    assert request.headers["x-team"] == "a"
    assert "x-tocsin-signature" not in request.headers
