"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import ssl
import subprocess
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from tests.support.peers import free_port
from tests.support.smtp import USER, MakeServer, Server

from tocsin.config import EmailChannelConfig
from tocsin.egress import TransportError
from tocsin.notify.email import EmailChannel, build_digest
from tocsin.outbox.payload import Message

PUBLIC_URL = "https://tocsin.example.com"
PASSWORD = "smtp-pa55word-do-not-leak"


@pytest.fixture
def server(make_server: MakeServer) -> Server:
    return make_server()


def channel(port: int, *, context: ssl.SSLContext | None = None, **options: Any) -> EmailChannel:
    settings: dict[str, Any] = {
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": "tocsin@example.com",
        "to": ["oncall@example.com"],
    }
    settings.update(options)
    return EmailChannel("mail", EmailChannelConfig(**settings), PUBLIC_URL, ssl_context=context)


def message(notification_id: str = "n-1", **payload: Any) -> Message:
    body: dict[str, Any] = {
        "version": 1,
        "alert_id": 42,
        "fingerprint": "abc",
        "event": "fired",
        "event_id": 7,
        "at": "2026-11-17T14:00:00+00:00",
        "state": "firing",
        "severity": "CRITICAL",
        "title": "Checkout error rate high",
        "message": "error rate 12%",
        "value": 12.0,
        "labels": {"service": "checkout"},
        "check": "error_rate",
        "runbook": "checkout-errors",
        "actor": None,
        "note": None,
        "ack_url": f"{PUBLIC_URL}/ack/NDIuMTc5NDkyNzYwMA.sig",
    }
    body.update(payload)
    return Message(id=notification_id, channel="mail", target=None, payload=body)


def parts(mail: EmailMessage) -> tuple[str, str]:
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def failure(mailer: EmailChannel, sent: Message | None = None) -> TransportError:
    with pytest.raises(TransportError) as caught:
        mailer.send(sent or message())
    return caught.value


def test_a_mail_has_a_text_part_and_an_html_alternative(server: Server) -> None:
    channel(server.port).send(message())

    [envelope] = server.recorder.envelopes
    assert envelope.mail_from == "tocsin@example.com"
    assert envelope.rcpt_tos == ["oncall@example.com"]
    [mail] = server.recorder.mails()
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["Subject"] == "[CRITICAL] Checkout error rate high"
    assert mail["From"] == "tocsin@example.com"
    assert mail["To"] == "oncall@example.com"
    assert mail["Auto-Submitted"] == "auto-generated"
    text, html = parts(mail)
    for part in (text, html):
        assert "Checkout error rate high" in part
        assert "error rate 12%" in part
        assert "checkout-errors" in part
        assert "service=checkout" in part
        assert f"{PUBLIC_URL}/ack/NDIuMTc5NDkyNzYwMA.sig" in part


def test_a_targeted_message_goes_to_that_person_instead_of_the_list(server: Server) -> None:
    paged = message()
    channel(server.port, to=["ops@example.com", "oncall@example.com"]).send(
        Message(paged.id, paged.channel, "ana@example.com", paged.payload)
    )

    [envelope] = server.recorder.envelopes
    assert envelope.rcpt_tos == ["ana@example.com"]
    [mail] = server.recorder.mails()
    assert mail["To"] == "ana@example.com"


def test_html_is_escaped(server: Server) -> None:
    channel(server.port).send(message(title="<script>alert(1)</script> & co"))

    [mail] = server.recorder.mails()
    text, html = parts(mail)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "<script>alert(1)</script> & co" in text


def test_message_id_comes_from_the_notification_id_so_a_retry_repeats_it(
    server: Server,
) -> None:
    mailer = channel(server.port)
    mailer.send(message("n-77"))
    mailer.send(message("n-77"))

    ids = [mail["Message-ID"] for mail in server.recorder.mails()]
    assert ids == ["<n-77@tocsin>", "<n-77@tocsin>"]


def test_every_mail_of_one_alert_threads_under_the_same_reference(server: Server) -> None:
    mailer = channel(server.port)
    mailer.send(message("n-1"))
    mailer.send(message("n-2", event="acknowledged", state="acknowledged", actor="ana"))
    mailer.send(message("n-3", event="resolved", state="resolved"))
    mailer.send(message("n-4", alert_id=43))

    mails = server.recorder.mails()
    assert [m["In-Reply-To"] for m in mails] == ["<alert-42@tocsin>"] * 3 + ["<alert-43@tocsin>"]
    assert [m["References"] for m in mails] == [m["In-Reply-To"] for m in mails]
    assert len({m["Message-ID"] for m in mails}) == 4
    assert [m["Subject"] for m in mails[:3]] == [
        "[CRITICAL] Checkout error rate high",
        "[ACK] Checkout error rate high",
        "[RESOLVED] Checkout error rate high",
    ]


def test_only_a_firing_alert_offers_the_acknowledge_link(server: Server) -> None:
    channel(server.port).send(message(event="resolved", state="resolved"))

    [mail] = server.recorder.mails()
    text, html = parts(mail)
    assert "/ack/" not in text
    assert "/ack/" not in html
    assert "checkout-errors" in text


def test_a_title_with_a_line_break_stays_in_one_subject_line(server: Server) -> None:
    channel(server.port).send(message(title="first\r\nBcc: someone@example.com"))

    [mail] = server.recorder.mails()
    assert mail["Subject"] == "[CRITICAL] first Bcc: someone@example.com"
    assert mail["Bcc"] is None


def test_it_logs_in_with_the_configured_username_and_password(make_server: MakeServer) -> None:
    server = make_server(auth=True)

    channel(server.port, username=USER, password="right").send(message())

    assert server.recorder.logins == [(USER.encode(), b"right")]
    assert len(server.recorder.envelopes) == 1


def test_a_wrong_password_is_permanent_and_never_shown(make_server: MakeServer) -> None:
    server = make_server(auth=True)

    error = failure(channel(server.port, username=USER, password=PASSWORD))

    assert error.permanent
    assert "535" in str(error)
    assert PASSWORD not in str(error)
    assert server.recorder.envelopes == []


def test_a_refused_recipient_is_permanent(server: Server) -> None:
    server.recorder.refuse = {"nobody@example.com"}

    error = failure(channel(server.port, to=["nobody@example.com"]))

    assert error.permanent
    assert "550 no such user" in str(error)


def test_a_recipient_refused_among_others_fails_after_the_rest_got_it(server: Server) -> None:
    server.recorder.refuse = {"nobody@example.com"}

    error = failure(channel(server.port, to=["oncall@example.com", "nobody@example.com"]))

    assert error.permanent
    assert "partly delivered" in str(error)
    assert [e.rcpt_tos for e in server.recorder.envelopes] == [["oncall@example.com"]]


def test_a_refused_connection_is_retried() -> None:
    error = failure(channel(free_port()))

    assert not error.permanent
    assert "ConnectionRefusedError" in str(error)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls_upgrades_before_logging_in(
    make_server: MakeServer, certificate: tuple[Path, Path]
) -> None:
    server = make_server(
        tls_context=server_context(certificate),
        require_starttls=True,
        auth=True,
        auth_require_tls=True,
        auth_required=True,
    )
    trusted = ssl.create_default_context(cafile=str(certificate[0]))

    mailer = channel(
        server.port, security="starttls", username=USER, password="right", context=trusted
    )
    mailer.send(message())

    assert server.recorder.logins == [(USER.encode(), b"right")]
    assert len(server.recorder.envelopes) == 1


def test_starttls_refuses_an_untrusted_certificate_and_retries(
    make_server: MakeServer, certificate: tuple[Path, Path]
) -> None:
    server = make_server(tls_context=server_context(certificate), require_starttls=True)

    error = failure(channel(server.port, security="starttls"))

    assert not error.permanent
    assert "SSLCertVerificationError" in str(error)
    assert server.recorder.envelopes == []


def test_starttls_against_a_server_without_it_is_permanent(server: Server) -> None:
    error = failure(channel(server.port, security="starttls"))

    assert error.permanent
    assert "STARTTLS" in str(error)


def test_implicit_tls(make_server: MakeServer, certificate: tuple[Path, Path]) -> None:
    server = make_server(ssl_context=server_context(certificate))
    trusted = ssl.create_default_context(cafile=str(certificate[0]))

    channel(server.port, security="tls", context=trusted).send(message())

    assert len(server.recorder.envelopes) == 1


def info(alert_id: int, event: str, at: str, title: str) -> dict[str, Any]:
    return message(
        alert_id=alert_id, event=event, at=f"2026-11-17T{at}:00+00:00", severity="INFO", title=title
    ).payload


def test_a_digest_lists_the_days_info_alerts_in_one_mail(server: Server) -> None:
    payloads = [
        info(3, "fired", "16:30", "Cache hit ratio low"),
        info(1, "fired", "09:00", "Disk 80% on db-1"),
        info(2, "fired", "10:15", "Certificate expires in 20 days <soon>"),
        info(1, "resolved", "09:45", "Disk 80% on db-1"),
    ]

    mail = build_digest(payloads, date(2026, 11, 17))
    channel(server.port).deliver(mail)

    [received] = server.recorder.mails()
    assert received["Subject"] == "[INFO] Tocsin INFO digest for 2026-11-17: 3 alerts"
    assert received["Message-ID"] == "<digest-2026-11-17@tocsin>"
    assert received["To"] == "oncall@example.com"
    text, html = parts(received)
    assert text.splitlines()[2:] == [
        "#1 Disk 80% on db-1 — fired 09:00, resolved 09:45",
        "#2 Certificate expires in 20 days <soon> — fired 10:15",
        "#3 Cache hit ratio low — fired 16:30",
    ]
    assert "Certificate expires in 20 days &lt;soon&gt;" in html
    assert html.count("<tr>") == 4  # the header row and one per alert
