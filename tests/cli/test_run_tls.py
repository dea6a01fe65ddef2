"""`tocsin run --tls-cert/--tls-key` serves the API over HTTPS: a certificate made by openssl,
a real process, a real HTTPS request that verifies it."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.peers import free_port
from typer.testing import CliRunner

from tocsin import store
from tocsin.cli import app
from tocsin.db import make_engine

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
runner = CliRunner()


def make_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def config(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    store.upgrade(engine)
    engine.dispose()
    path = tmp_path / "tocsin.yaml"
    path.write_text(f'store: {{url: "{url}"}}\nchannels: {{console: {{type: console}}}}\n')
    return path


@pytest.fixture
def served(tmp_path: Path, config: Path) -> Iterator[tuple[str, Path, Path]]:
    """`tocsin run --api-only` with TLS: (its https URL, the certificate, its log)."""
    cert, key = make_certificate(tmp_path, "server")
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin.cli", "run", "--api-only", "-c", str(config),
             "--listen", f"127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
    try:
        yield f"https://127.0.0.1:{port}", cert, log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_api_answers_https_verified_against_its_certificate(
    served: tuple[str, Path, Path],
) -> None:
    url, cert, log = served
    trust = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = httpx.get(f"{url}/healthz", verify=trust, timeout=5)
            break
        except httpx.ConnectError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    assert answer.status_code == 200
    assert answer.http_version == "HTTP/1.1"
    assert f"API listening on {url}" in log.read_text()
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{url}/healthz", timeout=5)  # the system's CAs do not know it
    with pytest.raises(httpx.HTTPError):
        httpx.get(url.replace("https://", "http://") + "/healthz", timeout=5)


def test_a_key_that_is_not_the_certificates_is_one_line_before_anything_starts(
    tmp_path: Path, config: Path
) -> None:
    cert, _ = make_certificate(tmp_path, "one")
    _, other_key = make_certificate(tmp_path, "two")
    result = runner.invoke(
        app, ["run", "-c", str(config), "--tls-cert", str(cert), "--tls-key", str(other_key)]
    )
    assert result.exit_code == 1
    assert f"--tls-cert {cert} with --tls-key {other_key}: cannot be used" in result.output


def test_a_certificate_without_its_key_is_refused(tmp_path: Path, config: Path) -> None:
    cert, _ = make_certificate(tmp_path, "one")
    result = runner.invoke(app, ["run", "-c", str(config), "--tls-cert", str(cert)])
    assert (result.exit_code, "--tls-cert and --tls-key go together" in result.output) == (1, True)
