"""The Twilio channel: an SMS for every alert event, or a voice call when an alert fires.

Each number is one POST to Twilio's REST API (`Messages.json` or `Calls.json`), form-encoded,
with HTTP Basic auth (account SID, auth token).

Delivery guarantees, and their gaps:

- Twilio's Messages and Calls APIs take no idempotency key, so a retry after a timeout whose
  request did reach Twilio sends a second text. Nothing of the notification's id goes to Twilio
  either: there is nowhere that would deduplicate on it.
- The pipeline writes one outbox row per number (`target`), so one number failing never
  re-texts the others. A row without a target (written by hand, or by an older version) goes
  to every configured number in order, and a failure part-way raises a retryable error whose
  retry texts the earlier numbers again. We accept a duplicate text over a missed page.
- A notice about no alert (a silence about to expire) is texted as it is, never called.
- A voice call is only placed for `fired`: nobody should be woken to hear "resolved".
  Acknowledging is done in Tocsin, not by pressing keys on the call.

Error text never contains the auth token (Twilio's error bodies are echoed into it, so it is
scrubbed as well as never being formatted in).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from tocsin.config.channels import TwilioChannelConfig
from tocsin.egress import Egress, TransportError
from tocsin.notify.base import Surroundings
from tocsin.notify.http import post
from tocsin.notify.text import notice
from tocsin.outbox.payload import Message

# Twilio concatenates long texts up to 1,600 characters and rejects anything longer.
MAX_SMS_CHARS = 1600
CUT_MARKER = "…"
# A spoken title longer than this is cut: the call is a prompt to look, not the report.
MAX_SPOKEN_TITLE = 200

EVENT_WORDS = {
    "fired": "FIRING",
    "severity_changed": "SEVERITY CHANGED",
    "acknowledged": "ACKNOWLEDGED",
    "resolved": "RESOLVED",
}


def sms_body(payload: dict[str, Any]) -> str:
    """The text message: severity, event and title first, so a lock screen shows what matters."""
    if (found := notice(payload)) is not None:
        return cut(f"[Tocsin] {found[1]}", MAX_SMS_CHARS)
    event = EVENT_WORDS.get(str(payload.get("event", "")), str(payload.get("event", "")).upper())
    lines = [f"[{payload.get('severity', '')}] {event}: {payload.get('title', '')}"]
    if payload.get("message"):
        lines.append(str(payload["message"]))
    if payload.get("runbook"):
        lines.append(f"Runbook: {payload['runbook']}")
    if payload.get("actor"):
        lines.append(f"By: {payload['actor']}")
    lines.append(f"Alert {payload.get('alert_id', '')}")
    return cut("\n".join(lines), MAX_SMS_CHARS)


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit - 1` characters followed by the cut marker."""
    if len(text) <= limit:
        return text
    return text[: limit - len(CUT_MARKER)] + CUT_MARKER


def voice_twiml(payload: dict[str, Any]) -> str:
    """A short spoken announcement, XML-escaped, that asks for nothing on the keypad."""
    severity = str(payload.get("severity", "")).lower()
    title = cut(str(payload.get("title", "")), MAX_SPOKEN_TITLE)
    spoken = f"Tocsin alert. Severity {severity}. {title}. Press nothing; acknowledge in Tocsin."
    return f"<Response><Say>{escape(spoken)}</Say></Response>"


class TwilioChannel:
    @classmethod
    def from_config(
        cls, name: str, config: TwilioChannelConfig, env: Surroundings
    ) -> TwilioChannel:
        return cls(name, config, env.http)

    def __init__(self, name: str, config: TwilioChannelConfig, client: Egress) -> None:
        self.name = name
        self._config = config
        self._client = client

    def send(self, message: Message) -> None:
        payload = message.payload
        config = self._config
        if config.mode == "voice":
            if payload.get("event") != "fired":
                return
            resource, content = "Calls.json", {"Twiml": voice_twiml(payload)}
        else:
            resource, content = "Messages.json", {"Body": sms_body(payload)}
        url = f"{config.url.rstrip('/')}/2010-04-01/Accounts/{config.account_sid}/{resource}"
        numbers = [message.target] if message.target else config.to
        for position, number in enumerate(numbers, start=1):
            try:
                post(
                    self._client,
                    url,
                    timeout=config.timeout,
                    data={"To": number, "From": config.from_number, **content},
                    auth=(config.account_sid, config.auth_token),
                )
            except TransportError as exc:
                # The number is left out (position only); `post` masked the credentials.
                raise TransportError(
                    f"{config.mode} to number {position} of {len(numbers)}: {exc}",
                    permanent=exc.permanent,
                    retry_after=exc.retry_after,
                    kind=exc.kind,
                ) from None
