"""The Slack channel: a Block Kit message posted to an incoming webhook.

The message is a header (the title), the alert's text, a grid of facts, a context line with
the labels and the time, and, while the alert is firing, an "Acknowledge" button linking to
Tocsin's ack page. A top-level `text` is the fallback notifications and old clients show.
Slack's limits are met by truncating with "…", never by refusing to send: header 150,
section text 3000, at most 10 fields of 2000, context text 3000, button URL 3000.

Incoming webhooks take no idempotency key, so a retry after a lost reply can post twice. Each
request still carries `X-Tocsin-Notification-Id: <notification id>` for proxies and logs.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tocsin.config.channels import SlackChannelConfig
from tocsin.egress import TransportError
from tocsin.notify.http import JsonChannel
from tocsin.notify.text import ack_link, clip, format_value, notice, runbook_link
from tocsin.outbox.payload import Message

HEADER_MAX = 150
SECTION_TEXT_MAX = 3000
FIELDS_MAX = 10
FIELD_MAX = 2000
CONTEXT_TEXT_MAX = 3000
URL_MAX = 3000
FALLBACK_MAX = 3000

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}…$")
_MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
# Mentions a report may carry: the channel's members, a user group, one member.
_GROUP = re.compile(r"<!here>|<!channel>|<!subteam\^[A-Z0-9]{2,20}>|<@[UW][A-Z0-9]{2,20}>")


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: without it `<!channel>` in an alert's text would ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip_mrkdwn(text: str, limit: int) -> str:
    """Clip escaped text without leaving half an entity such as "&am…"."""
    clipped = clip(text, limit)
    return _PARTIAL_ENTITY.sub("…", clipped)


def headline(payload: dict[str, Any]) -> str:
    prefix = {"resolved": "RESOLVED", "acknowledged": "ACKNOWLEDGED"}.get(
        str(payload.get("event")), str(payload.get("severity"))
    )
    return f"{prefix}: {payload.get('title', '')}"


def fact_fields(payload: dict[str, Any], public_url: str) -> list[dict[str, str]]:
    facts = [("Severity", str(payload.get("severity"))), ("State", str(payload.get("state")))]
    if payload.get("value") is not None:
        facts.append(("Value", format_value(payload["value"])))
    if payload.get("check"):
        facts.append(("Check", str(payload["check"])))
    facts.append(("Alert", f"#{payload.get('alert_id')}"))
    if payload.get("runbook"):
        link = runbook_link(str(payload["runbook"]), public_url)
        facts.append(("Runbook", f"<{link}|{escape(str(payload['runbook']))}>"))
    if payload.get("actor"):
        facts.append(("By", escape(str(payload["actor"]))))
    if payload.get("note"):
        facts.append(("Note", escape(str(payload["note"]))))
    return [
        {"type": "mrkdwn", "text": clip_mrkdwn(f"*{name}*\n{text}", FIELD_MAX)}
        for name, text in facts[:FIELDS_MAX]
    ]


def context_elements(payload: dict[str, Any]) -> list[dict[str, str]]:
    elements = []
    labels = payload.get("labels") or {}
    if labels:
        text = "  ".join(f"`{escape(f'{k}={v}')}`" for k, v in sorted(labels.items()))
        elements.append({"type": "mrkdwn", "text": clip_mrkdwn(text, CONTEXT_TEXT_MAX)})
    if payload.get("at"):
        at = str(payload["at"])
        # Slack shows a date token in each reader's own time zone; the ISO text is the fallback.
        seconds = int(datetime.fromisoformat(at).timestamp())
        elements.append(
            {"type": "mrkdwn", "text": f"<!date^{seconds}^{{date_short_pretty}} {{time}}|{at}>"}
        )
    return elements


def mention(target: str) -> str:
    """`<@U…>` for a member id; anything else would be markup injected into the message."""
    if not _MEMBER_ID.fullmatch(target):
        raise TransportError(f"{target!r} is not a Slack member id", permanent=True)
    return f"<@{target}>"


def build_body(
    payload: dict[str, Any], public_url: str, target: str | None = None
) -> dict[str, Any]:
    """The message; with a `target` (a member id) it mentions that person, so Slack pings them."""
    if (found := notice(payload)) is not None:
        return notice_body(*found, target, payload.get("mention"))
    title = headline(payload)
    message = str(payload.get("message") or "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_MAX)}}
    ]
    ping = f"{mention(target)} " if target else ""
    if ping:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": ping.strip()}})
    if message:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": clip_mrkdwn(escape(message), SECTION_TEXT_MAX)},
            }
        )
    blocks.append({"type": "section", "fields": fact_fields(payload, public_url)})
    if elements := context_elements(payload):
        blocks.append({"type": "context", "elements": elements})
    ack_url = ack_link(payload)
    # A cut URL would point somewhere wrong, so an overlong one loses the button instead.
    if ack_url is not None and len(ack_url) <= URL_MAX:
        button = {
            "type": "button",
            "action_id": "acknowledge",
            "text": {"type": "plain_text", "text": "Acknowledge"},
            "url": ack_url,
            "style": "primary",
        }
        blocks.append({"type": "actions", "elements": [button]})
    fallback = f"{title} — {message}" if message else title
    return {
        "text": ping + clip_mrkdwn(escape(fallback), FALLBACK_MAX - len(ping)),
        "blocks": blocks,
    }


def notice_body(title: str, text: str, target: str | None, group: object = None) -> dict[str, Any]:
    """A notice about no alert: its title and text, mentioning the person it is for, or the
    `group` a report names when a section is CRITICAL (`<!here>`, `<!subteam^ID>`, …)."""
    ping = f"{mention(target)} " if target else ""
    if isinstance(group, str) and _GROUP.fullmatch(group):
        ping += f"{group} "
    body = clip_mrkdwn(escape(text), SECTION_TEXT_MAX - len(ping))
    return {
        "text": clip_mrkdwn(ping + escape(text), FALLBACK_MAX),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_MAX)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": ping + body}},
        ],
    }


class SlackChannel(JsonChannel[SlackChannelConfig]):
    def body(self, message: Message) -> dict[str, Any] | None:
        return build_body(message.payload, self._public_url, message.target)
