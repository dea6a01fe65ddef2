"""The generic webhook channel: a versioned JSON body, an idempotency key and an HMAC signature.

Body, version 1 (UTF-8 JSON; new keys may be added within a version, none removed or renamed):

    {"version": 1, "notification_id": "<uuid>", "alert_id": 12, "fingerprint": "…",
     "event": "fired" | "severity_changed" | "acknowledged" | "resolved",
     "event_id": 34, "at": "<ISO 8601 UTC>", "state": "firing" | "acknowledged" | "resolved",
     "severity": "CRITICAL" | "HIGH" | "WARNING" | "INFO", "title": "…", "message": "…",
     "value": 12.5 | null, "labels": {"…": "…"}, "check": "…" | null,
     "runbook": "…" | null, "actor": "…" | null, "note": "…" | null}

A notice about no alert has `"event": "silence_expiring"`, `"alert_id": null`, a `title`
and `message` to show as they are, and a `silence` object (`id`, `matchers`, `starts_at`,
`ends_at`, `created_by`, `comment`); receivers that only handle alerts should ignore
events they do not know.

Headers:

    Content-Type: application/json
    Idempotency-Key: <notification_id>    the same on every retry of one notification
    X-Tocsin-Timestamp: <unix seconds>    when this attempt was signed
    X-Tocsin-Signature: sha256=<hex>      only when the channel has a `secret`

plus the channel's configured `headers` (which cannot replace these four).

To verify a request, the receiver:

1. reads the raw body bytes, before any JSON parsing;
2. computes `hmac_sha256(secret, timestamp + "." + body)` as lowercase hex, where `timestamp`
   is the X-Tocsin-Timestamp header exactly as sent;
3. compares `"sha256=" + hex` with X-Tocsin-Signature in constant time
   (Python: `hmac.compare_digest`);
4. refuses timestamps more than a few minutes from its own clock, so a captured request
   cannot be replayed later;
5. treats a repeated Idempotency-Key as already handled: retries after a lost reply resend
   the same notification.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from tocsin.clock import Clock, SystemClock
from tocsin.config.channels import WebhookChannelConfig
from tocsin.egress import Egress
from tocsin.notify.base import Surroundings
from tocsin.notify.http import post
from tocsin.outbox.payload import Message

BODY_VERSION = 1
SIGNED_HEADERS = ("content-type", "idempotency-key", "x-tocsin-timestamp", "x-tocsin-signature")


def encode_body(message: Message) -> bytes:
    body = {"version": BODY_VERSION, "notification_id": message.id, **message.payload}
    # The payload carries its own `version`; these two keep their place and our values.
    body.update(version=BODY_VERSION, notification_id=message.id)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class WebhookChannel:
    @classmethod
    def from_config(
        cls, name: str, config: WebhookChannelConfig, env: Surroundings
    ) -> WebhookChannel:
        # Signature timestamps are checked against the receiver's real clock, so they come
        # from the system clock even when Tocsin runs on virtual time.
        return cls(name, config, env.http, SystemClock())

    def __init__(
        self,
        name: str,
        config: WebhookChannelConfig,
        client: Egress,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self._config = config
        self._client = client
        # The signed timestamp is for the receiver's replay check, so it is the real time of
        # sending; tests inject a clock.
        self._clock = clock or SystemClock()

    def send(self, message: Message) -> None:
        body = encode_body(message)
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            name: value
            for name, value in self._config.headers.items()
            if name.lower() not in SIGNED_HEADERS
        }
        headers.update(
            {
                "Content-Type": "application/json",
                "Idempotency-Key": message.id,
                "X-Tocsin-Timestamp": timestamp,
            }
        )
        if self._config.secret:
            headers["X-Tocsin-Signature"] = signature(self._config.secret, timestamp, body)
        post(
            self._client,
            self._config.url,
            timeout=self._config.timeout,
            content=body,
            headers=headers,
        )
