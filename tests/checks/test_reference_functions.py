"""Reference 000 §6.2.2's check functions, used as they are, on a real PostgreSQL.

The functions decide for themselves and return `is_alert` and `severity`; a check takes that
verdict with `firing_column` and `severity_column`. Two of the five are broken SQL on
PostgreSQL 15 as printed; FIXES holds the smallest change that mends each, and the README says
the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine
from tests.support.pg import pg_schema
from typer.testing import CliRunner

from tocsin.cli import app

PRINTED = (Path(__file__).parent / "reference_000_functions.sql").read_text()
# (function, as printed, mended, what PostgreSQL 15 says about the printed one)
FIXES = [
    (
        # percentile_cont() returns double precision, and round(x, digits) exists only for
        # numeric.
        "check_provider_performance",
        "ROUND(((cp.p95_ms / NULLIF(bp.baseline_p95, 0)) - 1) * 100, 1)",
        "ROUND((((cp.p95_ms / NULLIF(bp.baseline_p95, 0)) - 1) * 100)::NUMERIC, 1)",
        "function round(double precision, integer) does not exist",
    ),
    (
        # FILTER belongs to an aggregate (MAX), not to the COALESCE around it.
        "check_manual_queue",
        "COALESCE(MAX(EXTRACT(EPOCH FROM (NOW() - created_at)) / 60)::INTEGER, 0) "
        "FILTER (WHERE priority = 'urgent')",
        "COALESCE(MAX(EXTRACT(EPOCH FROM (NOW() - created_at)) / 60) "
        "FILTER (WHERE priority = 'urgent'), 0)::INTEGER",
        'syntax error at or near "FILTER"',
    ),
]
TABLES = """
CREATE TABLE orders (id serial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE system_logs (level text, "timestamp" timestamptz);
CREATE TABLE fulfillment_events (provider_name text, response_time_ms integer,
  created_at timestamptz, cost_cents integer, shipping_cost_cents integer, status text);
CREATE TABLE manual_queue (priority text, status text, created_at timestamptz);
"""
DATA = """
INSERT INTO system_logs SELECT CASE WHEN g <= 1 THEN 'error' ELSE 'info' END, now()
  FROM generate_series(1, 50) g;
INSERT INTO fulfillment_events
  SELECT p, 100 + g % 10, now() - interval '2 days', 100, 10, 'submitted'
  FROM generate_series(1, 100) g, unnest(ARRAY['acme', 'zoom']) p;
INSERT INTO fulfillment_events SELECT 'acme', 400, now(), 500, 10, 'submitted'
  FROM generate_series(1, 10);
INSERT INTO fulfillment_events SELECT 'zoom', 105, now(), 500, 10, 'submitted'
  FROM generate_series(1, 10);
INSERT INTO manual_queue SELECT 'urgent', 'pending', now() - interval '3 hours'
  FROM generate_series(1, 2);
"""
runner = CliRunner()


def execute(url: str, sql: str) -> list[tuple[object, ...]]:
    """Run SQL as it is written (`%` included: psycopg only reads placeholders when given
    parameters); the last statement's rows."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.execute(sql)  # type: ignore[union-attr]
            rows: list[tuple[object, ...]] = []
            while True:
                rows = list(cursor.fetchall()) if cursor.description else rows
                if not cursor.nextset():
                    return rows
    finally:
        engine.dispose()


def mended(sql: str) -> str:
    for _, printed, fixed, _ in FIXES:
        assert printed in sql
        sql = sql.replace(printed, fixed)
    return sql


def function(sql: str, name: str) -> str:
    """One CREATE FUNCTION statement of the file."""
    start = sql.index(f"CREATE OR REPLACE FUNCTION {name}()")
    return sql[start : sql.index("$$ LANGUAGE plpgsql;", start) + len("$$ LANGUAGE plpgsql;")]


@pytest.fixture
def shop() -> Iterator[str]:
    """A PostgreSQL schema with the reference's tables, a little data and its five functions,
    mended."""
    with pg_schema("ref") as url:
        execute(url, TABLES + DATA + mended(PRINTED))
        yield url


@pytest.mark.parametrize(("name", "printed", "fixed", "error"), FIXES)
def test_two_of_the_printed_functions_are_broken_on_postgresql(
    shop: str, name: str, printed: str, fixed: str, error: str
) -> None:
    with pytest.raises(psycopg.Error, match=re.escape(error)):
        execute(shop, function(PRINTED, name) + f"; SELECT * FROM {name}()")


def test_the_other_three_run_as_printed(shop: str) -> None:
    for name in ("check_payment_processing", "check_error_rate", "check_cost_anomaly"):
        assert len(execute(shop, function(PRINTED, name) + f"; SELECT * FROM {name}()")) == 1


def test_checks_take_the_functions_verdict_as_it_is(
    shop: str, store_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "tocsin.yaml"
    config.write_text(f"""\
store: {{url: "{store_url}"}}
sources:
  shop: {{type: sql, url: "{shop}"}}
channels:
  console: {{type: console}}
checks:
  - name: manual_queue
    source: shop
    schedule: {{every: 5m}}
    query: SELECT * FROM check_manual_queue()
    firing_column: is_alert
    severity_column: severity
  - name: provider_performance
    source: shop
    schedule: {{every: 5m}}
    query: SELECT * FROM check_provider_performance()
    key: [provider_name]
    firing_column: is_alert
    severity_column: severity
    title: "{{{{ provider_name }}}} is {{{{ degradation_percent }}}}% slower than usual"
  - name: error_rate
    source: shop
    schedule: {{every: 1m}}
    query: SELECT * FROM check_error_rate()
    firing_column: is_alert
    severity_column: severity
""")
    assert runner.invoke(app, ["db", "upgrade", "-c", str(config)]).exit_code == 0
    assert runner.invoke(app, ["run", "--once", "-c", str(config)]).exit_code == 0
    listed = runner.invoke(app, ["alerts", "list", "--json", "-c", str(config)])
    alerts = sorted(json.loads(listed.output), key=lambda a: a["title"])
    # The queue's CRITICAL with the function's own message; acme three times slower (HIGH),
    # zoom as usual (no row); an error rate of 2 % (is_alert false: no alert).
    assert [(a["title"], a["severity"], a["message"]) for a in alerts] == [
        (
            "Manual queue",
            "CRITICAL",
            "2 urgent items in queue, oldest is 180 minutes old",
        ),
        (
            "acme is 267.0% slower than usual",
            "HIGH",
            "current_p95_ms = 400, baseline_p95_ms = 109, degradation_percent = 267.0",
        ),
    ]
