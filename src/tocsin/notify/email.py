"""The email channel: one mail per alert event over SMTP, threaded so one alert is one thread.

Each mail is a text part with an HTML alternative (Jinja2, autoescaped: titles and labels come
from checks and inbound webhooks, so they are untrusted).

Identity and threading:

- `Message-ID` is `<{notification id}@tocsin>`, so a retried send carries the same id and mail
  clients that deduplicate on it show one mail.
- Every mail of an alert, the first included, has `In-Reply-To` and `References` set to
  `<alert-{alert_id}@tocsin>`, an id no mail carries. Clients that thread on references
  (Thunderbird, Apple Mail, Outlook, mutt) group them under that shared parent; no state about
  which mail went first is needed. Gmail also wants the subject to match, which the
  `[RESOLVED]`/`[ACK]` prefixes break; we prefer a subject that says what happened.

Failures: 5xx replies, refused recipients or sender, and a server lacking a feature the
configuration asks for (STARTTLS, AUTH) are permanent; 4xx replies, timeouts, refused
connections and dropped sessions are retried. When only some recipients are refused the
mail has gone to the rest, and a retry sends it to them again (with the same Message-ID).
The SMTP password never appears in error text.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from typing import Any

from jinja2 import Environment, Template

from tocsin import redact
from tocsin.config.channels import EmailChannelConfig
from tocsin.egress import TransportError
from tocsin.notify.base import Surroundings
from tocsin.notify.text import ack_link, notice
from tocsin.outbox.payload import Message

MAX_SUBJECT_TITLE = 200

EVENT_PREFIX = {"resolved": "[RESOLVED]", "acknowledged": "[ACK]"}
EVENT_HEADINGS = {
    "fired": "fired",
    "severity_changed": "changed severity",
    "acknowledged": "was acknowledged",
    "resolved": "resolved",
}
COLOURS = {"CRITICAL": "#b00020", "WARNING": "#b36b00", "INFO": "#1a5fb4"}
RESOLVED_COLOUR = "#2e7d32"

ALERT_HTML = """\
<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.4">
<h2 style="color: {{ colour }}">{{ heading }}</h2>
{% if message %}<p>{{ message }}</p>{% endif %}
<table cellpadding="4">
{% for label, value in rows %}<tr><th align="left">{{ label }}</th><td>{{ value }}</td></tr>
{% endfor %}</table>
{% if ack_url %}<p><a href="{{ ack_url }}">Acknowledge in Tocsin</a></p>{% endif %}
<p style="color: #777">{{ footer }}</p>
</body></html>
"""

NOTICE_HTML = """\
<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.4">
<h2>{{ title }}</h2>
<p>{{ text }}</p>
</body></html>
"""

DIGEST_HTML = """\
<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.4">
<h2>{{ heading }}</h2>
{% if lines %}<table cellpadding="4">
<tr><th align="left">Alert</th><th align="left">Title</th><th align="left">Events</th></tr>
{% for line in lines %}<tr><td>{{ line.alert_id }}</td><td>{{ line.title }}</td>\
<td>{{ line.events }}</td></tr>
{% endfor %}</table>{% else %}<p>No INFO alerts.</p>{% endif %}
</body></html>
"""


@cache
def _template(source: str) -> Template:
    return Environment(autoescape=True).from_string(source)


def one_line(text: Any, limit: int = MAX_SUBJECT_TITLE) -> str:
    """Text fit for a header: no line breaks (the email package refuses them), cut at `limit`."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def subject(payload: dict[str, Any]) -> str:
    event = str(payload.get("event", ""))
    prefix = EVENT_PREFIX.get(event, f"[{payload.get('severity', '')}]")
    return f"{prefix} {one_line(payload.get('title'))}"


def detail_rows(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts both parts show, in order; empty ones left out."""
    labels = payload.get("labels") or {}
    rows = [
        ("Severity", payload.get("severity")),
        ("State", payload.get("state")),
        ("Value", payload.get("value")),
        ("Check", payload.get("check")),
        ("Labels", ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))),
        ("Runbook", payload.get("runbook")),
        ("By", payload.get("actor")),
        ("Note", payload.get("note")),
    ]
    return [(label, str(value)) for label, value in rows if value not in (None, "")]


def compose(payload: dict[str, Any], notification_id: str, public_url: str) -> EmailMessage:
    """The mail for one alert event, without From/To (the channel adds its own)."""
    event = str(payload.get("event", ""))
    alert_id = payload.get("alert_id")
    severity = str(payload.get("severity", ""))
    heading = (
        f"{severity} alert {EVENT_HEADINGS.get(event, event)}: {one_line(payload.get('title'))}"
    )
    rows = detail_rows(payload)
    link = ack_link(payload)
    footer = f"Alert {alert_id} · {payload.get('at', '')}"

    text = [heading, ""]
    if payload.get("message"):
        text += [str(payload["message"]), ""]
    text += [f"{label}: {value}" for label, value in rows]
    if link:
        text += ["", f"Acknowledge: {link}"]
    text += ["", footer]

    mail = EmailMessage()
    mail["Subject"] = subject(payload)
    mail["Message-ID"] = f"<{notification_id}@tocsin>"
    thread = f"<alert-{alert_id}@tocsin>"
    mail["In-Reply-To"] = thread
    mail["References"] = thread
    # RFC 3834: tells vacation responders not to answer an alert.
    mail["Auto-Submitted"] = "auto-generated"
    if payload.get("at"):
        mail["Date"] = format_datetime(datetime.fromisoformat(str(payload["at"])))
    mail.set_content("\n".join(text) + "\n")
    colour = RESOLVED_COLOUR if event == "resolved" else COLOURS.get(severity, "#333")
    html = _template(ALERT_HTML).render(
        colour=colour,
        heading=heading,
        message=payload.get("message"),
        rows=rows,
        ack_url=link,
        footer=footer,
    )
    mail.add_alternative(html, subtype="html")
    return mail


def compose_notice(
    title: str,
    text: str,
    notification_id: str,
    html: str | None = None,
    images: Sequence[Mapping[str, str]] = (),
) -> EmailMessage:
    """A notice about no alert (a silence about to expire, a report): its own thread, text
    as it is; `html`, a page Tocsin rendered with every value escaped (a report), replaces
    the plain HTML part, and `images` (`cid`, base64 `png`: a report's charts) go with it as
    related parts it shows by `cid:`."""
    mail = EmailMessage()
    mail["Subject"] = f"[Tocsin] {one_line(title)}"
    mail["Message-ID"] = f"<{notification_id}@tocsin>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(f"{text}\n")
    page = html if html is not None else _template(NOTICE_HTML).render(title=title, text=text)
    mail.add_alternative(page, subtype="html")
    if html is not None and images:
        # The HTML alternative becomes multipart/related: the page, then its images.
        part = next(p for p in mail.iter_parts() if p.get_content_type() == "text/html")
        assert isinstance(part, EmailMessage)
        for image in images:
            data = base64.b64decode(image["png"])
            part.add_related(data, "image", "png", cid=f"<{image['cid']}>")
    return mail


def build_digest(
    payloads: list[dict[str, Any]], day: date, notification_id: str | None = None
) -> EmailMessage:
    """One mail listing the day's alerts, one line per alert with its events in time order.

    The pipeline parks the rows of digest routes (INFO, reference 000 §6.2.1) and the worker
    turns each day's into one notification whose payload carries them all.
    """
    lines = _digest_lines(payloads)
    count = f"{len(lines)} alert{'' if len(lines) == 1 else 's'}"
    heading = f"Tocsin INFO digest for {day.isoformat()}: {count}"
    text = [heading, ""]
    text += [f"#{line['alert_id']} {line['title']} — {line['events']}" for line in lines]
    mail = EmailMessage()
    mail["Subject"] = f"[INFO] {heading}"
    mail["Message-ID"] = f"<digest-{notification_id or day.isoformat()}@tocsin>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content("\n".join(text) + "\n")
    mail.add_alternative(
        _template(DIGEST_HTML).render(heading=heading, lines=lines), subtype="html"
    )
    return mail


def _digest_lines(payloads: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    by_alert: dict[Any, list[dict[str, Any]]] = {}
    for payload in sorted(payloads, key=lambda p: str(p.get("at", ""))):
        by_alert.setdefault(payload.get("alert_id"), []).append(payload)
    lines = []
    for alert_id, events in by_alert.items():
        steps = []
        for payload in events:
            at = str(payload.get("at", ""))
            clock = datetime.fromisoformat(at).strftime("%H:%M") if at else "?"
            steps.append(f"{str(payload.get('event', '')).replace('_', ' ')} {clock}")
        lines.append(
            {
                "alert_id": str(alert_id),
                "title": one_line(events[-1].get("title")),
                "events": ", ".join(steps),
            }
        )
    return lines


class EmailChannel:
    @classmethod
    def from_config(cls, name: str, config: EmailChannelConfig, env: Surroundings) -> EmailChannel:
        return cls(name, config, env.public_url)

    def __init__(
        self,
        name: str,
        config: EmailChannelConfig,
        public_url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self._config = config
        self._public_url = public_url
        # Injected so tests (and private CAs) can trust a certificate the system does not.
        self._ssl_context = ssl_context

    def send(self, message: Message) -> None:
        payload = message.payload
        # A target is one person's address (an escalation step paging a user or schedule);
        # it replaces the configured list rather than joining it.
        recipients = [message.target] if message.target else None
        if payload.get("event") == "digest":
            day = datetime.fromisoformat(str(payload["at"])).date()
            self.deliver(build_digest(list(payload["alerts"]), day, message.id), recipients)
            return
        if (found := notice(payload)) is not None:
            html = payload.get("html")
            images = payload.get("images") if isinstance(html, str) else None
            mail = compose_notice(
                *found,
                message.id,
                html if isinstance(html, str) else None,
                images if isinstance(images, list) else (),
            )
            self.deliver(mail, recipients)
            return
        self.deliver(compose(payload, message.id, self._public_url), recipients)

    def deliver(self, mail: EmailMessage, recipients: list[str] | None = None) -> None:
        """Send `mail` to `recipients` (default: the configured ones), or raise TransportError."""
        config = self._config
        to = recipients or config.to
        if "From" not in mail:
            mail["From"] = config.from_address
        if "To" not in mail:
            mail["To"] = ", ".join(to)
        try:
            refused = self._transmit(mail, to)
        except (smtplib.SMTPException, OSError) as exc:
            error = classify(exc, config.timeout.total_seconds())
            raise TransportError(
                self._scrub(str(error)), permanent=error.permanent, retry_after=error.retry_after
            ) from None
        if refused:
            error = classify(smtplib.SMTPRecipientsRefused(refused), 0)
            raise TransportError(
                "partly delivered; " + self._scrub(str(error)), permanent=error.permanent
            )

    def _transmit(self, mail: EmailMessage, to: list[str]) -> dict[str, tuple[int, bytes]]:
        config = self._config
        timeout = config.timeout.total_seconds()
        context = self._ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if config.security == "tls":
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=context)
            if config.username:
                smtp.login(config.username, config.password or "")
            return smtp.send_message(mail, from_addr=config.from_address, to_addrs=to)

    def _scrub(self, text: str) -> str:
        """An SMTP server's words with the password, and anything named like a secret, masked."""
        return redact.text(text, [self._config.password or ""])


def classify(exc: smtplib.SMTPException | OSError, timeout: float) -> TransportError:
    """An SMTP or socket failure as a TransportError that says whether to retry."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        reasons = "; ".join(
            f"{address}: {code} {_text(reply)}" for address, (code, reply) in exc.recipients.items()
        )
        return TransportError(
            f"recipients refused: {reasons}", permanent=all(code >= 500 for code in codes)
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        what = "sender refused" if isinstance(exc, smtplib.SMTPSenderRefused) else "SMTP"
        return TransportError(
            f"{what}: {exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The server lacks what the configuration asks for (STARTTLS, AUTH): retrying won't help.
        return TransportError(f"not supported by the server: {exc}", permanent=True)
    if isinstance(exc, smtplib.SMTPException):
        return TransportError(f"SMTP session failed: {type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError):
        return TransportError(f"timed out after {timeout:g} s")
    return TransportError(f"connection failed: {type(exc).__name__}: {exc}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
