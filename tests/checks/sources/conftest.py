"""Fixtures for the source tests: loopback HTTP(S) servers and a port nothing listens on."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator

import pytest
from tests.support.loopback import Loopback


@pytest.fixture
def make_server() -> Iterator[Callable[[ssl.SSLContext | None], Loopback]]:
    """Start loopback servers (HTTPS when given a context); all stop at teardown."""
    started: list[Loopback] = []

    def make(tls: ssl.SSLContext | None = None) -> Loopback:
        started.append(Loopback(tls))
        return started[-1]

    yield make
    for loopback in started:
        loopback.stop()


@pytest.fixture
def server(make_server: Callable[[ssl.SSLContext | None], Loopback]) -> Loopback:
    return make_server(None)


@pytest.fixture
def closed_port() -> int:
    """A port that nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
