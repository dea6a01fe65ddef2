"""The one outbound HTTP client, against real loopback servers: the destination policy, the size
cap, the redirect policy, the deadline and the log lines."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.support.loopback import Answer, Loopback

from tocsin.config.egress import EgressConfig
from tocsin.egress import DestinationDenied, Egress, TransportError
from tocsin.notify.http import post

TIMEOUT = timedelta(seconds=2)


@pytest.fixture
def server() -> Iterator[Loopback]:
    loopback = Loopback()
    yield loopback
    loopback.stop()


def policy(**fields: Any) -> EgressConfig:
    return EgressConfig.model_validate(fields)


def get(egress: Egress, url: str, **options: Any) -> Any:
    options.setdefault("timeout", TIMEOUT)
    options.setdefault("max_bytes", 1024)
    return egress.request("GET", url, **options)


# --- destinations ----------------------------------------------------------------------------


def test_a_denied_address_is_refused_with_a_clear_error_and_nothing_is_sent(
    server: Loopback,
) -> None:
    with Egress(policy(deny=["127.0.0.0/8"])) as egress, pytest.raises(DestinationDenied) as caught:
        get(egress, server.url + "/anything")

    assert caught.value.kind == "denied"
    assert caught.value.permanent
    assert str(caught.value) == (
        "refused by the egress policy: 127.0.0.1 is in egress.deny (127.0.0.0/8)"
    )
    assert server.requests == []


def test_the_address_a_name_resolves_to_is_checked_not_only_the_name(server: Loopback) -> None:
    port = server.url.rsplit(":", 1)[1]
    deny = policy(deny=["127.0.0.0/8", "::1/128"])
    with Egress(deny) as egress, pytest.raises(DestinationDenied, match=r"in egress\.deny"):
        get(egress, f"http://localhost:{port}/")

    assert server.requests == []


def test_with_an_allow_list_only_those_addresses_are_reached(server: Loopback) -> None:
    refused = pytest.raises(DestinationDenied, match=r"127\.0\.0\.1 is not in egress\.allow")
    with Egress(policy(allow=["10.0.0.0/8"])) as egress, refused:
        get(egress, server.url)
    with Egress(policy(allow=["127.0.0.1"])) as egress:
        assert get(egress, server.url).status == 200

    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
    ],
)
def test_cloud_metadata_addresses_are_denied_by_default(url: str) -> None:
    with Egress() as egress, pytest.raises(DestinationDenied):
        get(egress, url)


def test_loopback_is_allowed_by_default(server: Loopback) -> None:
    with Egress() as egress:
        assert get(egress, server.url).status == 200


# --- size -------------------------------------------------------------------------------------


def test_an_oversized_body_stops_the_reading_with_an_error_that_says_so(server: Loopback) -> None:
    server.answer = Answer(body=b"x" * 5000)

    with Egress() as egress, pytest.raises(TransportError) as caught:
        get(egress, server.url, max_bytes=100)

    assert caught.value.kind == "too_large"
    assert str(caught.value) == "the answer is larger than 100 bytes; reading stopped there"


def test_an_oversized_body_is_cut_and_reported_when_the_caller_allows_it(
    server: Loopback, caplog: pytest.LogCaptureFixture
) -> None:
    server.answer = Answer(body=b"x" * 5000)
    caplog.set_level(logging.DEBUG, logger="tocsin.egress")

    with Egress() as egress:
        reply = get(egress, server.url, max_bytes=100, cut=True)

    assert reply.body == b"x" * 100
    assert reply.cut
    assert "(cut at 100)" in caplog.text


def test_a_body_of_exactly_the_cap_is_whole(server: Loopback) -> None:
    server.answer = Answer(body=b"x" * 100)

    with Egress() as egress:
        reply = get(egress, server.url, max_bytes=100)

    assert reply.body == b"x" * 100
    assert not reply.cut


# --- redirects -------------------------------------------------------------------------------


def test_a_redirect_is_not_followed_its_3xx_is_the_answer(server: Loopback) -> None:
    server.answer = Answer(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    with Egress() as egress:
        reply = get(egress, server.url + "/old")

    assert reply.status == 302
    assert reply.headers["location"] == "http://169.254.169.254/latest/meta-data/"
    assert [r.path for r in server.requests] == ["/old"]


def test_a_channel_that_is_redirected_fails_for_good_saying_why(server: Loopback) -> None:
    server.answer = Answer(301, headers={"Location": server.url + "/new"})

    with Egress() as egress, pytest.raises(TransportError) as caught:
        post(egress, server.url + "/old", timeout=TIMEOUT, json={})

    assert caught.value.permanent
    assert str(caught.value) == "301: redirects are not followed (is the URL out of date?)"
    assert len(server.requests) == 1


# --- time ------------------------------------------------------------------------------------


def test_a_slow_server_times_out(server: Loopback) -> None:
    server.answer = Answer(body=b"late", delay=5)

    with Egress() as egress, pytest.raises(TransportError) as caught:
        get(egress, server.url, timeout=timedelta(milliseconds=200))

    assert caught.value.kind == "timeout"
    assert not caught.value.permanent
    assert str(caught.value) == "timed out after 0.2 s"


@pytest.fixture
def dripping() -> Iterator[str]:
    """A server that promises 1,000 bytes and sends one every 20 ms, each within any per-read
    timeout: only a deadline on the whole answer stops it."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                if stop.wait(0.02):
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    listener.close()
    thread.join()


def test_a_server_dripping_its_body_times_out_at_the_deadline(dripping: str) -> None:
    with Egress() as egress, pytest.raises(TransportError) as caught:
        get(egress, dripping, timeout=timedelta(milliseconds=300), max_bytes=2000)

    assert caught.value.kind == "timeout"
    assert "the body was still arriving" in str(caught.value)


# --- logs and errors -------------------------------------------------------------------------


def test_log_lines_show_the_request_with_its_secrets_masked(
    server: Loopback, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # -v: httpx too

    with Egress() as egress:
        get(egress, server.url + "/api/webhooks/123/T0K3N-s3cr3t?api_key=k3y-v4lue")

    assert "T0K3N-s3cr3t" not in caplog.text
    assert "k3y-v4lue" not in caplog.text
    (line,) = [r.getMessage() for r in caplog.records if r.name == "tocsin.egress"]
    assert line.startswith(f"GET {server.url}/api/webhooks/123/****?api_key=**** → 200, 0 bytes")


def test_no_error_names_the_url(server: Loopback) -> None:
    url = server.url + "/hooks/T0K3N-s3cr3t"
    server.stop()

    with Egress() as egress, pytest.raises(TransportError) as caught:
        get(egress, url)

    assert caught.value.kind == "unreachable"
    assert "s3cr3t" not in str(caught.value)
    assert server.url not in str(caught.value)


def test_a_transport_can_be_injected() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"mocked")

    with Egress(transport=httpx.MockTransport(answer)) as egress:
        reply = get(egress, "https://example.test/x")

    assert reply.text == "mocked"
    assert seen[0].headers["user-agent"].startswith("tocsin/")


def test_requests_from_many_threads_share_one_client(server: Loopback) -> None:
    with Egress() as egress:
        threads = [threading.Thread(target=get, args=(egress, server.url)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(server.requests) == 8
