"""The check presets shipped beside the storefront: reference 002 §5.2's metric thresholds
and §5.3's health endpoint. They validate, their SQL checks run on a storefront, and the
health check grades the answers §5.3's endpoint gives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from importlib import resources

import pytest
from tests.support.loopback import Loopback
from tests.support.pg import pg_schema

from tocsin import actions
from tocsin.checks.sources import open_source
from tocsin.config import TocsinConfig, parse
from tocsin.demo.storefront import DEFAULT_START, Scenario, create_storefront

ENV = {"PROMETHEUS_URL": "http://127.0.0.1:9090", "SHOP_DATABASE_URL": "sqlite:///x.db"}
EMPTY = actions.checks.Snapshot(previous={}, pending={}, history=None)


def preset(name: str, **env: str) -> TocsinConfig:
    text = resources.files("tocsin.examples").joinpath(name).read_text("utf-8")
    config, _ = parse(text, name, env={**ENV, **env})
    return config


def test_the_metric_thresholds_preset_has_a_check_per_row_of_the_table() -> None:
    config = preset("metric-thresholds.yaml")
    ladders = {c.name: [(r.when, r.severity) for r in c.conditions] for c in config.checks}
    assert ladders == {
        "api_latency_p99": [("> 5", "CRITICAL"), (">= 1", "WARNING")],
        "db_query_time_p99": [("> 1", "CRITICAL"), (">= 0.2", "WARNING")],
        "api_error_rate": [("> 1", "CRITICAL"), (">= 0.1", "WARNING")],
        "function_invocations": [("> 200", "CRITICAL"), ("> 50", "WARNING")],
        "db_connections": [("> 80", "CRITICAL"), (">= 50", "WARNING")],
        "failed_webhooks": [("> 5", "CRITICAL"), (">= 1", "WARNING")],
    }


@pytest.fixture(scope="module")
def shop_pg() -> Iterator[str]:
    with pg_schema("preset") as url:
        create_storefront(url, DEFAULT_START, Scenario(history_days=1, log_history_hours=2))
        yield url


def test_the_sql_checks_of_the_preset_run_on_a_storefront(shop_pg: str) -> None:
    config = preset("metric-thresholds.yaml", SHOP_DATABASE_URL=shop_pg)
    source = open_source(config.sources["shop"])
    try:
        now = DEFAULT_START + timedelta(minutes=60)
        outcomes = {
            name: actions.checks.evaluate(config.check(name), source, EMPTY, now)
            for name in ("db_connections", "failed_webhooks")
        }
    finally:
        source.close()
    for outcome in outcomes.values():
        assert outcome.status == "ok", outcome.error
    assert outcomes["db_connections"].results[0].severity is None
    webhooks = outcomes["failed_webhooks"].results[0]
    assert webhooks.message.endswith("failed webhooks in the last hour (normal: none)")


HEALTHY = {
    "status": "healthy",
    "timestamp": "2026-11-17T14:00:00.000Z",
    "checks": {"database": {"status": "ok"}, "functions": {"status": "ok"}},
}


@pytest.fixture
def endpoint() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("status", "body", "severity", "message"),
    [
        (200, HEALTHY, None, "HTTP 200, healthy: database ok, functions ok"),
        (
            503,
            {
                **HEALTHY,
                "status": "degraded",
                "checks": {"database": {"status": "ok"}, "functions": {"status": "error"}},
            },
            "HIGH",
            "HTTP 503, degraded: database ok, functions error",
        ),
        (
            503,
            {**HEALTHY, "status": "degraded", "checks": {"database": {"status": "error"}}},
            "CRITICAL",
            "HTTP 503, degraded: database error",
        ),
        (502, "Bad Gateway", "CRITICAL", "HTTP 502"),
    ],
)
def test_the_health_check_grades_the_answers_of_the_health_endpoint(
    endpoint: Loopback, status: int, body: object, severity: str | None, message: str
) -> None:
    config = preset("health-endpoint.yaml", HEALTH_URL=f"{endpoint.url}/api/health")
    check = config.check("health_endpoint").model_copy(update={"for_": timedelta(0)})
    if isinstance(body, dict):
        endpoint.json(body, status)
    else:
        endpoint.answer.status, endpoint.answer.body = status, str(body).encode()
    source = open_source(config.sources["health"])
    try:
        outcome = actions.checks.evaluate(check, source, EMPTY, DEFAULT_START)
    finally:
        source.close()
    assert outcome.status == "ok", outcome.error
    result = outcome.results[0]
    assert result.severity == severity
    assert result.message.startswith(message + " in ")
