"""Loopback stand-ins for the services the demo notifies: Discord, Slack, PagerDuty, Twilio,
a webhook receiver and an SMTP server. Each records what it receives, in the services' own
formats, so the demo can print exactly what left Tocsin. Nothing leaves the machine."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    service: str
    summary: str


@dataclass
class StandIns:
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _http: ThreadingHTTPServer | None = None
    _smtp: Controller | None = None
    _smtp_port: int = 0

    def start(self) -> None:
        stand_ins = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, service, summary = _describe(self.path, body)
                stand_ins.record(service, summary)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        with socket.socket() as probe:  # aiosmtpd needs a port number before it starts
            probe.bind(("127.0.0.1", 0))
            self._smtp_port = int(probe.getsockname()[1])
        self._smtp = Controller(_Mailbox(self), hostname="127.0.0.1", port=self._smtp_port)
        self._smtp.start()

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._smtp is not None:
            self._smtp.stop()

    @property
    def url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def record(self, service: str, summary: str) -> None:
        with self._lock:
            self.received.append(Received(service, " ".join(summary.split())))

    def take(self) -> list[Received]:
        with self._lock:
            out, self.received = self.received, []
        return out

    def channels(self) -> dict[str, dict[str, Any]]:
        """The demo's channel configuration, every URL pointing at a stand-in."""
        twilio = {
            "type": "twilio",
            "account_sid": "ACdemo",
            "auth_token": "demo-token",
            "from_number": "+15550000000",
            "to": ["+15551230001"],
            "url": f"{self.url}/twilio",
        }
        return {
            "discord": {"type": "discord", "url": f"{self.url}/discord/api/webhooks/1/x"},
            "slack": {"type": "slack", "url": f"{self.url}/slack/services/T/B/x"},
            "pagerduty": {
                "type": "pagerduty",
                "routing_key": "demo-routing-key",
                "url": f"{self.url}/pagerduty/v2/enqueue",
            },
            "sms": {**twilio, "mode": "sms"},
            "phone": {**twilio, "mode": "voice", "to": ["+15551230002"]},
            "email": {
                "type": "email",
                "host": "127.0.0.1",
                "port": self._smtp_port,
                "security": "none",
                "from_address": "tocsin@shop.example",
                "to": ["oncall@shop.example"],
            },
        }


class _Mailbox:
    def __init__(self, stand_ins: StandIns) -> None:
        self._stand_ins = stand_ins

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        mail = message_from_bytes(content, policy=policy.default)
        self._stand_ins.record("Email", f"to {', '.join(envelope.rcpt_tos)}: {mail['Subject']}")
        return "250 Message accepted"


def _describe(path: str, body: bytes) -> tuple[int, str, str]:
    if path.startswith("/twilio"):
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if path.endswith("Calls.json"):
            return 201, "Twilio", f"call to {form.get('To')}"
        return 201, "Twilio", f"SMS to {form.get('To')}: {form.get('Body', '')[:70]}"
    data = json.loads(body or b"{}")
    if path.startswith("/discord"):
        embed = (data.get("embeds") or [{}])[0]
        mention = f"{data['content']} " if data.get("content") else ""
        return 204, "Discord", f"{mention}{embed.get('title', '')}"
    if path.startswith("/slack"):
        return 200, "Slack", str(data.get("text", ""))[:90]
    if path.startswith("/pagerduty"):
        summary = (data.get("payload") or {}).get("summary", "")
        action = data.get("event_action")
        return 202, "PagerDuty", f"{action} {data.get('dedup_key')} {summary}".strip()
    return 200, "Webhook", f"{data.get('event')} {data.get('title', '')}"
