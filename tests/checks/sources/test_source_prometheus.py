"""The Prometheus source against canned API answers, and once against a real Prometheus."""

from __future__ import annotations

import math
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.loopback import Loopback

from tocsin.checks.sources import PrometheusSource, open_source
from tocsin.config import PrometheusSourceConfig
from tocsin.errors import SourceError

PROMETHEUS = "/usr/bin/prometheus"


def source_for(url: str) -> PrometheusSource:
    return PrometheusSource(PrometheusSourceConfig(type="prometheus", url=url))


def answer(result_type: str, result: Any) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": result_type, "result": result}}


def query(url: str, promql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    source = source_for(url)
    try:
        return source.fetch(promql, params or {})
    finally:
        source.close()


def failure(url: str, promql: str = "up") -> SourceError:
    with pytest.raises(SourceError) as caught:
        query(url, promql)
    return caught.value


def test_a_vector_gives_one_row_per_series_with_its_labels(server: Loopback) -> None:
    server.json(
        answer(
            "vector",
            [
                {"metric": {"__name__": "up", "job": "api", "instance": "a:9090"},
                 "value": [1763380800.0, "1"]},
                {"metric": {"__name__": "up", "job": "api", "instance": "b:9090"},
                 "value": [1763380800.0, "0"]},
            ],
        )
    )  # fmt: skip

    rows = query(server.url, 'up{job="api"}')

    assert rows == [
        {"__name__": "up", "job": "api", "instance": "a:9090", "value": 1.0},
        {"__name__": "up", "job": "api", "instance": "b:9090", "value": 0.0},
    ]


def test_it_asks_for_an_instant_query_at_the_given_time(server: Loopback) -> None:
    server.json(answer("vector", []))
    at = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)

    rows = query(server.url + "/", "sum(rate(http_requests_total[5m]))", {"time": at})

    assert rows == []
    (received,) = server.requests
    assert received.path == "/api/v1/query"
    assert received.query["query"] == ["sum(rate(http_requests_total[5m]))"]
    assert float(received.query["time"][0]) == at.timestamp()


def test_a_scalar_gives_one_row(server: Loopback) -> None:
    server.json(answer("scalar", [1763380800.0, "0.25"]))

    assert query(server.url, "scalar(vector(0.25))") == [{"value": 0.25}]


def test_nan_and_infinity_are_floats(server: Loopback) -> None:
    server.json(
        answer(
            "vector",
            [
                {"metric": {"le": "a"}, "value": [1.0, "NaN"]},
                {"metric": {"le": "b"}, "value": [1.0, "+Inf"]},
                {"metric": {"le": "c"}, "value": [1.0, "-Inf"]},
            ],
        )
    )

    values = [row["value"] for row in query(server.url, "x")]

    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf]


def test_a_bad_expression_is_a_query_error_with_prometheus_words(server: Loopback) -> None:
    server.json(
        {"status": "error", "errorType": "bad_data",
         "error": 'invalid parameter "query": 1:5: parse error: unexpected "}"'},
        status=400,
    )  # fmt: skip

    error = failure(server.url, "up{}}")

    assert error.kind == "query"
    assert "parse error" in str(error)


def test_an_execution_error_is_a_query_error(server: Loopback) -> None:
    server.json(
        {"status": "error", "errorType": "execution", "error": "many-to-many matching"},
        status=422,
    )

    assert failure(server.url).kind == "query"


def test_prometheus_giving_up_is_a_timeout(server: Loopback) -> None:
    server.json({"status": "error", "errorType": "timeout", "error": "query timed out"}, status=503)

    assert failure(server.url).kind == "timeout"


def test_a_range_vector_is_refused(server: Loopback) -> None:
    server.json(answer("matrix", [{"metric": {}, "values": [[1.0, "1"]]}]))

    error = failure(server.url, "up[5m]")

    assert error.kind == "query"
    assert "range vectors are not supported; use an instant query" in str(error)


def test_a_string_result_is_refused(server: Loopback) -> None:
    server.json(answer("string", [1.0, "hello"]))

    assert failure(server.url, '"hello"').kind == "query"


def test_an_answer_that_is_not_prometheus_is_unreachable(server: Loopback) -> None:
    server.answer.status = 502
    server.answer.body = b"<html>Bad Gateway</html>"

    error = failure(server.url)

    assert error.kind == "unreachable"
    assert "502" in str(error)


def test_a_closed_port_is_unreachable(closed_port: int) -> None:
    assert failure(f"http://127.0.0.1:{closed_port}").kind == "unreachable"


def test_open_source_builds_a_prometheus_source(server: Loopback) -> None:
    source = open_source(PrometheusSourceConfig(type="prometheus", url=server.url))

    assert isinstance(source, PrometheusSource)
    assert source.dialect == "prometheus"
    source.close()


# --- a real Prometheus ---------------------------------------------------------------------


@pytest.fixture
def prometheus(tmp_path: Path, closed_port: int) -> Iterator[str]:
    """A real Prometheus on a free loopback port that scrapes itself four times a second."""
    if shutil.which(PROMETHEUS) is None:
        pytest.skip(f"{PROMETHEUS} is not installed (Debian: apt-get install prometheus)")
    address = f"127.0.0.1:{closed_port}"
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "scrape_configs:\n"
        "  - job_name: self\n"
        "    scrape_interval: 250ms\n"
        f"    static_configs: [{{targets: ['{address}']}}]\n"
    )
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address={address}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://{address}"
    try:
        _wait_until(lambda: httpx.get(f"{url}/-/ready", timeout=1).status_code == 200)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until(ready: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not ready within {seconds}s")


@pytest.mark.slow
def test_it_queries_a_real_prometheus(prometheus: str) -> None:
    source = source_for(prometheus)
    try:
        assert source.fetch("vector(42)", {"time": datetime.now(UTC)}) == [{"value": 42.0}]
        assert source.fetch("scalar(vector(1.5))", {}) == [{"value": 1.5}]

        _wait_until(lambda: source.fetch('up{job="self"}', {}) != [])
        (up,) = source.fetch('up{job="self"}', {})
        assert up["__name__"] == "up"
        assert up["instance"] == prometheus.removeprefix("http://")
        assert up["value"] == 1.0

        (build,) = source.fetch("prometheus_build_info", {})
        assert build["version"]
        assert build["value"] == 1.0

        with pytest.raises(SourceError) as caught:
            source.fetch("up{", {})
        assert caught.value.kind == "query"
        with pytest.raises(SourceError, match="range vectors are not supported"):
            source.fetch("up[1m]", {})
    finally:
        source.close()
