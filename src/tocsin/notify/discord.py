"""The Discord channel: one embed per alert transition, posted to a channel webhook.

Discord's limits are met by truncating with "…", never by refusing to send: title 256,
description 4096, at most 25 fields (name 256, value 1024), footer 2048, and 6000 characters
of embed text in all. A mention goes out only when a CRITICAL alert fires.

Discord webhooks take no idempotency key, so a retry after a lost reply can post twice. Each
request still carries `X-Tocsin-Notification-Id: <notification id>` so a proxy in front of
Discord, or whoever reads its logs, can tell a retry from a new notification.
"""

from __future__ import annotations

import re
from typing import Any

from tocsin.config.channels import DiscordChannelConfig
from tocsin.egress import TransportError
from tocsin.notify.http import JsonChannel
from tocsin.notify.text import ack_link, clip, format_value, notice, runbook_link
from tocsin.outbox.payload import Message

COLOURS = {"CRITICAL": 15158332, "HIGH": 15105570, "WARNING": 16776960, "INFO": 3447003}
RESOLVED_COLOUR = 3066993
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
# Below this the description stops giving way to fields: the message matters more.
DESCRIPTION_FLOOR = 1000

_ROLE = re.compile(r"<@&(\d+)>")
_USER = re.compile(r"<@!?(\d+)>")
_SNOWFLAKE = re.compile(r"\d{15,21}")


def allowed_mentions(mention: str) -> dict[str, list[str]]:
    """Let exactly the configured mention ping, and nothing an alert's text happens to contain."""
    if mention in ("@here", "@everyone"):
        return {"parse": ["everyone"]}
    if match := _ROLE.fullmatch(mention):
        return {"parse": [], "roles": [match.group(1)]}
    if match := _USER.fullmatch(mention):
        return {"parse": [], "users": [match.group(1)]}
    return {"parse": []}


def embed_title(payload: dict[str, Any]) -> str:
    event = payload.get("event")
    prefix = {"resolved": "RESOLVED", "acknowledged": "ACKNOWLEDGED"}.get(
        str(event), str(payload.get("severity"))
    )
    return clip(f"{prefix}: {payload.get('title', '')}", TITLE_MAX)


def embed_fields(payload: dict[str, Any], public_url: str) -> list[dict[str, Any]]:
    """Fields in order of importance, so trimming for the total limit drops the least useful."""
    fields: list[tuple[str, str, bool]] = [
        ("Severity", str(payload.get("severity")), True),
        ("State", str(payload.get("state")), True),
    ]
    if payload.get("value") is not None:
        fields.append(("Value", format_value(payload["value"]), True))
    if payload.get("check"):
        fields.append(("Check", str(payload["check"]), True))
    fields.append(("Alert", f"#{payload.get('alert_id')}", True))
    if payload.get("runbook"):
        link = runbook_link(str(payload["runbook"]), public_url)
        fields.append(("Runbook", f"[{payload['runbook']}]({link})", True))
    if ack_url := ack_link(payload):
        fields.append(("Acknowledge", f"[acknowledge in Tocsin]({ack_url})", True))
    if payload.get("actor"):
        fields.append(("By", str(payload["actor"]), True))
    if payload.get("note"):
        fields.append(("Note", str(payload["note"]), False))
    labels = payload.get("labels") or {}
    if labels:
        text = "\n".join(f"`{key}={value}`" for key, value in sorted(labels.items()))
        fields.append(("Labels", text, False))
    return [
        {
            "name": clip(name, FIELD_NAME_MAX),
            "value": clip(value, FIELD_VALUE_MAX) or "-",
            "inline": inline,
        }
        for name, value, inline in fields[:FIELDS_MAX]
    ]


def build_embed(payload: dict[str, Any], footer: str, public_url: str) -> dict[str, Any]:
    title = embed_title(payload)
    footer = clip(footer, FOOTER_MAX)
    fields = embed_fields(payload, public_url)
    message = str(payload.get("message") or "")

    def fields_size() -> int:
        return sum(len(f["name"]) + len(f["value"]) for f in fields)

    # Fit the 6000 total: the description gives way down to its floor, then trailing fields
    # go, then the description gives way entirely.
    room = EMBED_TOTAL_MAX - len(title) - len(footer)
    while fields and fields_size() > room - min(len(message), DESCRIPTION_FLOOR):
        fields.pop()
    description = clip(message, max(min(DESCRIPTION_MAX, room - fields_size()), 0))
    embed: dict[str, Any] = {
        "title": title,
        "color": (
            RESOLVED_COLOUR
            if payload.get("event") == "resolved"
            else COLOURS.get(str(payload.get("severity")), COLOURS["INFO"])
        ),
        "fields": fields,
        "footer": {"text": footer},
    }
    if description:  # left out when empty rather than sent as ""
        embed["description"] = description
    if payload.get("at"):
        embed["timestamp"] = payload["at"]
    return embed


def build_body(
    payload: dict[str, Any],
    config: DiscordChannelConfig,
    public_url: str,
    target: str | None = None,
) -> dict[str, Any]:
    """The message. A `target` (a user id: an escalation step paging one person) is mentioned
    instead of the channel-wide CRITICAL mention, and is the only one let through."""
    if target is not None:
        if not _SNOWFLAKE.fullmatch(target):
            raise TransportError(f"{target!r} is not a Discord user id", permanent=True)
        mention = f"<@{target}>"
    elif notice(payload) is not None:
        mention = str(payload.get("mention") or "")  # a report's, when a section is CRITICAL
    elif payload.get("severity") == "CRITICAL" and payload.get("event") == "fired":
        mention = config.critical_mention
    else:
        mention = ""
    return {
        "content": mention,
        "allowed_mentions": allowed_mentions(mention),
        "embeds": [
            notice_embed(payload, config.footer) or build_embed(payload, config.footer, public_url)
        ],
    }


def notice_embed(payload: dict[str, Any], footer: str) -> dict[str, Any] | None:
    """A notice about no alert as a plain embed (title and text), or None for an alert."""
    found = notice(payload)
    if found is None:
        return None
    title, text = found
    return {
        "title": clip(title, TITLE_MAX),
        "description": clip(text, DESCRIPTION_MAX),
        "footer": {"text": clip(footer, FOOTER_MAX)},
    }


class DiscordChannel(JsonChannel[DiscordChannelConfig]):
    def body(self, message: Message) -> dict[str, Any] | None:
        return build_body(message.payload, self._config, self._public_url, message.target)
