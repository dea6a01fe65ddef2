"""The HTTP source against a real loopback server, over HTTP and HTTPS."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.loopback import Answer, Loopback

from tocsin import config as configuration
from tocsin.checks.sources import HttpSource, open_source
from tocsin.config import HttpSourceConfig
from tocsin.errors import SourceError

MakeServer = Callable[[ssl.SSLContext | None], Loopback]


def probe(url: str, **options: Any) -> dict[str, Any]:
    source = HttpSource(HttpSourceConfig(type="http", url=url, **options))
    try:
        rows = source.fetch(None, {})
    finally:
        source.close()
    assert len(rows) == 1
    return rows[0]


def failure(url: str, **options: Any) -> SourceError:
    with pytest.raises(SourceError) as caught:
        probe(url, **options)
    return caught.value


def test_it_answers_one_row_with_status_body_json_and_headers(server: Loopback) -> None:
    server.json({"data": {"status": "ok", "queue": 3}})
    server.answer.headers["X-Served-By"] = "loopback"

    row = probe(server.url + "/health")

    assert row["status"] == 200
    assert row["json"]["data"]["status"] == "ok"
    assert row["body"] == '{"data": {"status": "ok", "queue": 3}}'
    assert row["headers"]["content-type"] == "application/json"
    assert row["headers"]["x-served-by"] == "loopback"
    assert row["connected"] is True
    assert row["url"] == server.url + "/health"
    assert row["certificate_days_left"] is None
    assert isinstance(row["response_time_ms"], float)


def test_a_failing_status_is_an_answer_not_an_error(server: Loopback) -> None:
    server.answer = Answer(status=503, body=b"down for maintenance")

    row = probe(server.url)

    assert row["status"] == 503
    assert row["body"] == "down for maintenance"
    assert row["json"] is None


def test_it_sends_the_configured_method_headers_and_body(server: Loopback) -> None:
    probe(
        server.url + "/probe",
        method="POST",
        headers={"X-Probe": "tocsin"},
        body='{"ping": true}',
    )

    (received,) = server.requests
    assert received.method == "POST"
    assert received.path == "/probe"
    assert received.headers["x-probe"] == "tocsin"
    assert received.body == b'{"ping": true}'


def test_response_time_covers_the_servers_delay(server: Loopback) -> None:
    server.answer = Answer(body=b"slowish", delay=0.05)

    row = probe(server.url)

    assert row["response_time_ms"] >= 50


def test_the_body_is_cut_at_max_body_bytes(server: Loopback) -> None:
    server.answer = Answer(body=b"x" * 5000)

    row = probe(server.url, max_body_bytes=100)

    assert row["body"] == "x" * 100


def test_a_truncated_json_body_parses_as_none(server: Loopback) -> None:
    server.json({"items": list(range(100))})

    row = probe(server.url, max_body_bytes=20)

    assert row["json"] is None
    assert len(row["body"]) == 20


def test_a_slow_server_is_a_timeout(server: Loopback) -> None:
    server.answer = Answer(body=b"late", delay=5)

    error = failure(server.url, timeout=timedelta(milliseconds=200))

    assert error.kind == "timeout"


def test_a_closed_port_is_unreachable(closed_port: int) -> None:
    error = failure(f"http://127.0.0.1:{closed_port}/")

    assert error.kind == "unreachable"
    assert str(closed_port) in str(error)


def test_an_unreachable_url_is_named_without_its_password_or_query_values(
    closed_port: int,
) -> None:
    error = failure(f"http://probe:pr0be-pw@127.0.0.1:{closed_port}/health?api_key=k3y-123")

    assert f"http://probe:****@127.0.0.1:{closed_port}/health?api_key=****" in str(error)
    assert "pr0be-pw" not in str(error)
    assert "k3y-123" not in str(error)


def test_an_answer_echoing_the_requests_secrets_is_kept_with_them_masked(
    server: Loopback,
) -> None:
    server.answer = Answer(body=b"you sent: ", echo=True)

    row = probe(
        server.url + "/status?token=q-t0ken-123&format=json",
        headers={"Authorization": "Bearer b34rer-t0ken", "X-Team": "ops"},
    )

    assert "b34rer-t0ken" not in row["body"]
    assert "q-t0ken-123" not in row["body"]
    assert "X-Team: ops" in row["body"]
    assert row["url"] == server.url + "/status?token=****&format=****"


def test_a_url_that_is_not_http_is_refused_when_opened() -> None:
    with pytest.raises(SourceError) as caught:
        HttpSource(HttpSourceConfig(type="http", url="ftp://example.com/file"))

    assert caught.value.kind == "unreachable"


# --- HTTPS ---------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Path, make_server: MakeServer) -> Loopback:
    """An HTTPS loopback server with a fresh self-signed certificate valid for 30 days."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "30",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    loopback = make_server(context)
    loopback.answer = Answer(body=b"secure")
    return loopback


def test_it_reads_the_certificates_days_left(tls_server: Loopback) -> None:
    row = probe(tls_server.url, verify_tls=False)

    assert row["status"] == 200
    assert row["body"] == "secure"
    assert 29 < row["certificate_days_left"] <= 30.01


def test_an_untrusted_certificate_is_a_tls_error_not_unreachable(tls_server: Loopback) -> None:
    error = failure(tls_server.url, verify_tls=True)

    assert error.kind == "tls"
    assert str(error).startswith("TLS: ")
    assert "certificate verify failed" in str(error)


# --- a private CA ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivateCA:
    """A CA made for the test, and a server certificate for 127.0.0.1 it signed."""

    ca: Path
    cert: Path
    key: Path


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> PrivateCA:
    folder.mkdir()
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, request = folder / "server.pem", folder / "server.key", folder / "server.csr"
    extensions = folder / "server.ext"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "30",
            "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(request), "-subj", "/CN=127.0.0.1")  # fmt: skip
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    openssl("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-out", str(cert), "-days", "30",
            "-extfile", str(extensions))  # fmt: skip
    return PrivateCA(ca, cert, key)


@pytest.fixture
def private_ca(tmp_path: Path) -> PrivateCA:
    return make_ca(tmp_path / "private", "Tocsin Test Private CA")


@pytest.fixture
def private_server(private_ca: PrivateCA, make_server: MakeServer) -> Loopback:
    """An HTTPS loopback server whose certificate the private CA signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(private_ca.cert, private_ca.key)
    loopback = make_server(context)
    loopback.answer = Answer(body=b"private")
    return loopback


def test_a_certificate_from_a_private_ca_fails_tls_verification(private_server: Loopback) -> None:
    error = failure(private_server.url)

    assert error.kind == "tls"
    assert "certificate verify failed: unable to get local issuer certificate" in str(error)


def test_ca_file_trusts_the_private_ca(private_server: Loopback, private_ca: PrivateCA) -> None:
    row = probe(private_server.url, ca_file=private_ca.ca)

    assert row["status"] == 200
    assert row["body"] == "private"
    assert 29 < row["certificate_days_left"] <= 30.01


def test_ca_file_of_another_ca_does_not_trust_the_server(
    private_server: Loopback, tmp_path: Path
) -> None:
    other = make_ca(tmp_path / "other", "Another CA")

    error = failure(private_server.url, ca_file=other.ca)

    assert error.kind == "tls"


def test_a_missing_ca_file_is_a_tls_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ca.pem"

    with pytest.raises(SourceError) as caught:
        HttpSource(HttpSourceConfig(type="http", url="https://127.0.0.1/", ca_file=missing))

    assert caught.value.kind == "tls"
    assert str(caught.value) == f"cannot use ca_file {missing}: No such file or directory"


def test_ca_file_is_found_beside_the_configuration_file(
    private_server: Loopback, private_ca: PrivateCA, tmp_path: Path
) -> None:
    config_file = private_ca.ca.parent / "tocsin.yaml"
    config_file.write_text(
        f"sources:\n  api: {{type: http, url: '{private_server.url}', ca_file: ca.pem}}\n"
    )

    loaded = configuration.load(config_file, env={})

    source = loaded.config.sources["api"]
    assert isinstance(source, HttpSourceConfig)
    assert source.ca_file == private_ca.ca
    opened = open_source(source)
    try:
        assert opened.fetch(None, {})[0]["body"] == "private"
    finally:
        opened.close()


def test_open_source_builds_an_http_source(server: Loopback) -> None:
    source = open_source(HttpSourceConfig(type="http", url=server.url))

    assert isinstance(source, HttpSource)
    assert source.dialect == "http"
    source.close()
