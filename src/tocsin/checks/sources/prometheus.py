"""Prometheus as a check source: one instant query per fetch, one row per series.

A `vector` answer gives each series' labels as columns (with `__name__` when present) plus
`value`; a `scalar` gives one row `{"value": …}`. Range vectors and strings have no place in a
check and are refused as query errors, as are Prometheus' own bad_data and execution errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tocsin import redact
from tocsin.checks.sources.base import Row
from tocsin.checks.sources.http import checked_url, translate_errors
from tocsin.clock import ensure_utc
from tocsin.config.egress import EgressConfig
from tocsin.config.sources import PrometheusSourceConfig
from tocsin.egress import Egress, Transport
from tocsin.errors import SourceError

MAX_SERIES = 10_000
"""More series than this is a query that forgot to aggregate (`sum by (…)`)."""
MAX_ANSWER_BYTES = 16 * 1024 * 1024

# Prometheus' errorType values that mean "it gave up in time", not "the query is wrong".
_TIMEOUT_ERRORS = frozenset({"timeout", "canceled"})


class PrometheusSource:
    """A Prometheus server's HTTP API; thread-safe (one pool)."""

    def __init__(
        self,
        config: PrometheusSourceConfig,
        transport: Transport | None = None,
        egress: EgressConfig | None = None,
    ) -> None:
        """Prepare the client without connecting."""
        self._base = checked_url(config.url).rstrip("/")
        self._timeout = config.timeout
        self._egress = Egress(egress, headers=config.headers, transport=transport)

    @property
    def dialect(self) -> str:
        return "prometheus"

    def fetch(self, query: str | None, params: Mapping[str, Any]) -> list[Row]:
        """Evaluate `query` as an instant query at `params["time"]` (else the server's now).

        Raises SourceError `query` for a bad expression or a result that is not a vector or
        scalar, `timeout`, or `unreachable`.
        """
        if not query:
            raise SourceError("query", "a Prometheus source needs a PromQL query")
        # Prometheus gets the same timeout, so it stops evaluating when we stop waiting.
        seconds = self._timeout.total_seconds()
        request: dict[str, str] = {"query": query, "timeout": f"{seconds:g}s"}
        if params.get("time") is not None:
            request["time"] = _api_time(params["time"])
        url = f"{self._base}/api/v1/query"
        with translate_errors(url):
            reply = self._egress.request(
                "GET", url, params=request, timeout=self._timeout, max_bytes=MAX_ANSWER_BYTES
            )
        return _rows(_payload(reply.status, reply.body, redact.url(url)))

    def close(self) -> None:
        self._egress.close()


def _api_time(value: Any) -> str:
    """Unix seconds, which every Prometheus version accepts; strings are passed as given."""
    if isinstance(value, datetime):
        return f"{ensure_utc(value).timestamp():.3f}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.3f}"
    if isinstance(value, str):
        return value
    raise SourceError("query", f"'time' must be a datetime or unix seconds, not {value!r}")


def _payload(status: int, raw: bytes, url: str) -> dict[str, Any]:
    """The `data` of a successful answer; raise SourceError for an error answer."""
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise SourceError("unreachable", f"{url} answered HTTP {status} without Prometheus JSON")
    if payload.get("status") == "error" or status >= 300:
        kind = str(payload.get("errorType", ""))
        message = f"Prometheus: {payload.get('error') or f'HTTP {status}'}"
        if kind in _TIMEOUT_ERRORS:
            raise SourceError("timeout", message)
        # 400 bad_data (syntax) and 422 execution errors are the query's fault; a 503 or a
        # proxy's 5xx is the server's.
        raise SourceError("query" if status in (400, 422) else "unreachable", message)
    data = payload.get("data")
    if not isinstance(data, dict):
        raise SourceError("unreachable", f"{url} answered without 'data'")
    return data


def _rows(data: dict[str, Any]) -> list[Row]:
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "scalar":
        return [{"value": _sample_value(result)}]
    if kind == "vector" and isinstance(result, list):
        if len(result) > MAX_SERIES:
            raise SourceError(
                "query",
                f"the query returned {len(result)} series (at most {MAX_SERIES}); "
                "aggregate it with sum by (…)",
            )
        # A label named `value` is shadowed by the sample: the sample is what checks compare.
        return [
            {**series.get("metric", {}), "value": _sample_value(series.get("value"))}
            for series in result
        ]
    if kind == "matrix":
        raise SourceError("query", "range vectors are not supported; use an instant query")
    raise SourceError("query", f"a {kind} result has no value a check can compare")


def _sample_value(sample: Any) -> float:
    """`[timestamp, "1.5"]` → 1.5; Prometheus writes NaN and ±Inf as "NaN", "+Inf", "-Inf"."""
    try:
        return float(sample[1])
    except (TypeError, ValueError, IndexError, KeyError):
        raise SourceError("query", f"Prometheus sent a malformed sample {sample!r}") from None
