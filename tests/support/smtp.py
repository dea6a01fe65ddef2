"""SMTP servers (aiosmtpd) on loopback that record what they accept: the `make_server`
fixture (a plugin in tests/conftest.py) starts them; all stop at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from tests.support.peers import free_port

USER = "alerts"  # the login `Recorder` accepts, with the password "right"


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it accepts and refuses the addresses it is told to."""

    refuse: set[str] = field(default_factory=set)
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append((data.login, data.password))
        # handled=False: aiosmtpd then answers 535 itself.
        good = (data.login, data.password) == (USER.encode(), b"right")
        return AuthResult(success=good, handled=False)

    def mails(self) -> list[EmailMessage]:
        return [
            cast(EmailMessage, message_from_bytes(cast(bytes, e.content), policy=policy.default))
            for e in self.envelopes
        ]


@dataclass
class Server:
    port: int
    recorder: Recorder


MakeServer = Callable[..., Server]


@pytest.fixture
def make_server() -> Iterator[MakeServer]:
    """Start SMTP servers (keyword arguments go to aiosmtpd); all stop at teardown."""
    started: list[Controller] = []

    def make(*, auth: bool = False, **options: Any) -> Server:
        recorder = Recorder()
        if auth:
            # Over plain text, aiosmtpd warns when AUTH is required: offering it is enough.
            options = {"auth_require_tls": False, **options}
            options["authenticator"] = recorder.authenticate
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return Server(port, recorder)

    yield make
    for controller in started:
        controller.stop()
