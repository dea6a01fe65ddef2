"""Fixtures for the source tests: loopback HTTP(S) servers."""

from __future__ import annotations

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
