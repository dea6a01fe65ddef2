"""The five example checks, run as Tocsin runs them, against the storefront scenario.

Each check's SQL (the dialect's variant) runs straight through SQLAlchemy with its params
resolved from a virtual "now", on SQLite and on PostgreSQL; the values must cross the
reference's thresholds in the scenario's phases and stay under them in normal traffic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text
from tests.support.pg import pg_schema

from tocsin.config import CheckConfig, TocsinConfig, parse, parse_duration
from tocsin.demo.storefront import DEFAULT_START, Scenario, create_storefront
from tocsin.expressions import evaluate, render

SCENARIO = Scenario()
_PARAM = re.compile(r"^(now|today)\s*(?:([+-])\s*(\S+))?$")


def minute(offset: float) -> datetime:
    return DEFAULT_START + timedelta(minutes=offset)


# --- running a check as Tocsin does ----------------------------------------------------------


def resolve(spec: str, now: datetime) -> datetime:
    """`now`, `now-10m`, `today` (start of the UTC day), `today-30d` at a virtual now."""
    match = _PARAM.match(spec.strip())
    assert match, spec
    base_name, sign, amount = match.groups()
    base = now
    if base_name == "today":
        base = now.replace(hour=0, minute=0, second=0, microsecond=0)
    delta = parse_duration(amount) if amount else timedelta(0)
    return base - delta if sign == "-" else base + delta


def bind(params: Mapping[str, str], now: datetime, dialect: str) -> dict[str, Any]:
    """SQLite gets naive UTC text as the storefront stores it; PostgreSQL aware datetimes."""
    out: dict[str, Any] = {}
    for name, spec in params.items():
        at = resolve(spec, now)
        out[name] = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if dialect == "sqlite" else at
    return out


def fetch(conn: Connection, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(text(query), dict(params)).mappings()]


def number(value: Any) -> float | None:
    return None if value is None else float(value)


def run(conn: Connection, check: CheckConfig, now: datetime) -> dict[str, dict[str, Any]]:
    """Rows by key, each with `current`, `baseline`, `value` and the first rung that holds."""
    dialect = conn.dialect.name
    params = bind(check.params, now, dialect)
    query = check.query_for(dialect)
    assert query is not None
    baselines: dict[tuple[Any, ...], float | None] = {}
    if check.baseline is not None:
        spec = check.baseline
        baseline_query = spec.query or (spec.queries or {}).get(dialect)
        assert baseline_query is not None
        for row in fetch(conn, baseline_query, params):
            baselines[tuple(row[k] for k in check.key)] = number(row[spec.column])
    out: dict[str, dict[str, Any]] = {}
    for row in fetch(conn, query, params):
        assert check.value is not None
        current = number(row[check.value])
        variables: dict[str, Any] = {**row, "current": current, "baseline": None, "value": current}
        if check.baseline is not None:
            base = baselines.get(tuple(row[k] for k in check.key))
            variables["baseline"] = base
            variables["value"] = None
            if current is not None and base:
                ratio = current / base
                variables["value"] = (
                    ratio if check.baseline.compare == "ratio" else ((ratio - 1) * 100)
                )
        severity = None
        if variables["value"] is not None:
            severity = next(
                (c.severity for c in check.conditions if evaluate(c.when, variables)), None
            )
        variables["severity"] = severity
        message = render(check.message or "", variables)
        assert "template error" not in message, message
        variables["message"] = message
        out["/".join(str(row[k]) for k in check.key) or check.name] = variables
    return out


# --- fixtures ----------------------------------------------------------------------------------


def example_config() -> TocsinConfig:
    text_ = resources.files("tocsin.examples").joinpath("storefront.yaml").read_text("utf-8")
    config, _ = parse(text_, "storefront.yaml", env={"SHOP_DATABASE_URL": "sqlite:///x.db"})
    return config


@pytest.fixture(scope="module")
def config() -> TocsinConfig:
    return example_config()


def _sqlite_shop(folder: Path) -> Iterator[Connection]:
    url = f"sqlite:///{folder / 'shop.db'}"
    create_storefront(url, DEFAULT_START, SCENARIO)
    engine = create_engine(url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _postgresql_shop() -> Iterator[Connection]:
    with pg_schema("shop") as url:
        create_storefront(url, DEFAULT_START, SCENARIO)
        engine = create_engine(url)
        with engine.connect() as conn:
            yield conn
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shop(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Connection]:
    if request.param == "sqlite":
        yield from _sqlite_shop(tmp_path_factory.mktemp("shop"))
    else:
        yield from _postgresql_shop()


# --- the two example files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["storefront.yaml", "starter.yaml"])
def test_the_example_files_validate_with_the_five_checks(name: str) -> None:
    text_ = resources.files("tocsin.examples").joinpath(name).read_text("utf-8")
    config, _ = parse(text_, name, env={"SHOP_DATABASE_URL": "sqlite:///x.db"})
    assert [c.name for c in config.checks] == [
        "payment_processing",
        "error_rate",
        "provider_performance",
        "manual_queue",
        "cost_anomaly",
    ]
    assert config.sources["shop"].url == "sqlite:///x.db"
    for check in config.checks:
        for dialect in ("sqlite", "postgresql"):
            assert check.query_for(dialect), (name, check.name, dialect)


def test_the_starter_keeps_the_references_thresholds(config: TocsinConfig) -> None:
    text_ = resources.files("tocsin.examples").joinpath("starter.yaml").read_text("utf-8")
    starter, _ = parse(text_, "starter.yaml", env={"SHOP_DATABASE_URL": "sqlite:///x.db"})
    assert "${SHOP_DATABASE_URL}" in text_
    for ours, theirs in zip(config.checks, starter.checks, strict=True):
        assert ours.conditions == theirs.conditions
        assert ours.params == theirs.params
        assert ours.active_hours == theirs.active_hours
        assert ours.key == theirs.key


def test_no_query_reads_the_database_clock(config: TocsinConfig) -> None:
    for check in config.checks:
        texts = [check.query or "", *(check.queries or {}).values()]
        if check.baseline is not None:
            texts += [check.baseline.query or "", *(check.baseline.queries or {}).values()]
        for sql in texts:
            assert not re.search(r"(?i)\b(now\s*\(|current_date|current_timestamp|'now')", sql)


# --- payment processing ------------------------------------------------------------------------


def test_payment_check_sees_orders_before_the_outage(
    shop: Connection, config: TocsinConfig
) -> None:
    check = config.check("payment_processing")
    begin = SCENARIO.payment_outage[0]
    for offset in range(0, begin + 5, 5):
        row = run(shop, check, minute(offset))["payment_processing"]
        assert row["recent_orders"] > 0, offset
        assert row["severity"] is None
        assert row["message"].endswith("orders in last 10 minutes")


def test_payment_check_is_critical_ten_minutes_into_the_outage(
    shop: Connection, config: TocsinConfig
) -> None:
    check = config.check("payment_processing")
    begin, end = SCENARIO.payment_outage
    for offset in range(begin + 10, end + 1, 5):
        row = run(shop, check, minute(offset))["payment_processing"]
        assert row["recent_orders"] == 0, offset
        assert row["severity"] == "CRITICAL"
        assert row["message"] == ("No orders processed in last 10 minutes during business hours")
    assert run(shop, check, minute(end + 5))["payment_processing"]["recent_orders"] > 0


def test_business_hours_never_go_ten_minutes_without_an_order(
    shop: Connection, config: TocsinConfig
) -> None:
    check = config.check("payment_processing")
    outage = range(SCENARIO.payment_outage[0] + 10, SCENARIO.payment_outage[1] + 5)
    for offset in range(-24 * 60, SCENARIO.minutes + 1, 5):
        if offset in outage or not 6 <= (minute(offset).hour - 5) % 24 < 23:
            continue
        assert run(shop, check, minute(offset))["payment_processing"]["recent_orders"] > 0, offset


# --- error rate --------------------------------------------------------------------------------


def error_rate(shop: Connection, config: TocsinConfig, offset: int) -> float:
    value = run(shop, config.check("error_rate"), minute(offset))["error_rate"]["value"]
    assert value is not None
    return float(value)


def test_error_rate_stays_under_four_percent_in_normal_traffic(
    shop: Connection, config: TocsinConfig
) -> None:
    normal = [
        *range(-600, SCENARIO.error_noise[0]),
        *range(SCENARIO.error_tail[1] + 5, SCENARIO.minutes + 1),
    ]
    rates = [error_rate(shop, config, offset) for offset in normal[::7]]
    assert max(rates) < 4
    assert 0.5 < sum(rates) / len(rates) < 3


def test_error_rate_wavers_around_five_percent_without_dropping_under_four(
    shop: Connection, config: TocsinConfig
) -> None:
    begin, end = SCENARIO.error_noise
    rates = [error_rate(shop, config, offset) for offset in range(begin + 5, end + 1)]
    assert min(rates) >= 4
    assert max(rates) < 10
    assert any(r < 5 for r in rates)
    assert any(r >= 5 for r in rates)


def test_error_rate_is_high_during_the_spike_then_holds_above_five(
    shop: Connection, config: TocsinConfig
) -> None:
    begin, end = SCENARIO.error_spike
    spike = [error_rate(shop, config, offset) for offset in range(begin + 5, end + 1)]
    assert min(spike) >= 10
    row = run(shop, config.check("error_rate"), minute(begin + 10))["error_rate"]
    assert row["severity"] == "HIGH"
    assert row["message"].startswith(f"Error rate {row['error_rate_percent']}%")
    tail = [error_rate(shop, config, offset) for offset in range(end + 5, SCENARIO.error_tail[1])]
    assert min(tail) >= 5
    assert max(tail) < 10


# --- provider performance ----------------------------------------------------------------------


def providers(shop: Connection, config: TocsinConfig, offset: int) -> dict[str, dict[str, Any]]:
    return run(shop, config.check("provider_performance"), minute(offset))


def test_provider_baselines_are_the_providers_usual_p95(
    shop: Connection, config: TocsinConfig
) -> None:
    rows = providers(shop, config, 0)
    assert 700 < rows["printful"]["baseline"] < 900
    assert 1050 < rows["printify"]["baseline"] < 1350


def test_provider_ratios_stay_low_before_printify_slows(
    shop: Connection, config: TocsinConfig
) -> None:
    for offset in range(0, SCENARIO.printify_slow[0] + 1, 5):
        for name, row in providers(shop, config, offset).items():
            assert row["value"] < 1.5, (name, offset)


def test_printify_is_warning_then_high_while_degraded(
    shop: Connection, config: TocsinConfig
) -> None:
    slow, degraded = SCENARIO.printify_slow, SCENARIO.printify_degraded
    row = providers(shop, config, slow[1])["printify"]
    assert 2 < row["value"] < 3
    assert row["severity"] == "WARNING"
    for offset in range(degraded[0] + 5, degraded[1] + 5, 5):
        rows = providers(shop, config, offset)
        assert rows["printify"]["value"] > 3, offset
        assert rows["printify"]["severity"] == "HIGH"
        assert rows["printify"]["message"].startswith("printify p95 ")
        assert rows["printful"]["severity"] is None
    assert providers(shop, config, degraded[1] + 10)["printify"]["value"] < 1.5


# --- manual queue ------------------------------------------------------------------------------


def queue(shop: Connection, config: TocsinConfig, offset: int) -> dict[str, Any]:
    return run(shop, config.check("manual_queue"), minute(offset))["manual_queue"]


def test_queue_is_small_and_fresh_in_normal_times(shop: Connection, config: TocsinConfig) -> None:
    for offset in [*range(-1440, 150, 30), SCENARIO.queue_drain[1] + 5, SCENARIO.minutes]:
        row = queue(shop, config, offset)
        assert row["queue_depth"] < 30, offset
        assert row["oldest_urgent_age_minutes"] <= 60, offset
        assert row["severity"] is None


def test_queue_walks_up_the_ladder_and_back(shop: Connection, config: TocsinConfig) -> None:
    severities = {
        offset: queue(shop, config, offset)["severity"]
        for offset in range(150, SCENARIO.minutes + 1, 5)
    }
    seen = [
        s
        for i, s in enumerate(severities.values())
        if i == 0 or s != list(severities.values())[i - 1]
    ]
    assert seen == [None, "WARNING", "HIGH", "CRITICAL", "HIGH", None]


def test_queue_overflow_and_urgent_age_cross_the_thresholds(
    shop: Connection, config: TocsinConfig
) -> None:
    peak = queue(shop, config, SCENARIO.queue_drain[0])
    assert peak["queue_depth"] > 50
    assert peak["urgent_count"] > 0
    assert peak["oldest_urgent_age_minutes"] > 120
    assert peak["severity"] == "CRITICAL"
    assert peak["message"] == (
        f"{peak['urgent_count']} urgent items in queue, oldest is "
        f"{peak['oldest_urgent_age_minutes']} minutes old"
    )


# --- cost anomaly ------------------------------------------------------------------------------


def cost(shop: Connection, config: TocsinConfig, at: datetime) -> dict[str, Any]:
    return run(shop, config.check("cost_anomaly"), at)["cost_anomaly"]


def test_cost_is_ordinary_on_the_days_before(shop: Connection, config: TocsinConfig) -> None:
    for days in range(1, 8):
        # The end of a whole past day: its cost against the 30 days before it.
        end_of_day = DEFAULT_START.replace(hour=23, minute=59, second=59) - timedelta(days=days)
        row = cost(shop, config, end_of_day)
        assert -20 < row["value"] < 20, (days, row["value"])


def test_cost_spike_is_warning_after_one_wave_then_high_after_two(
    shop: Connection, config: TocsinConfig
) -> None:
    first, second = SCENARIO.cost_waves
    assert cost(shop, config, minute(first[0]))["value"] < 0
    between = cost(shop, config, minute(first[1] + 5))
    assert 25 < between["value"] <= 50
    assert between["severity"] == "WARNING"
    row = cost(shop, config, minute(second[1]))
    assert row["value"] > 50
    assert row["severity"] == "HIGH"
    assert row["message"].startswith("Today's fulfilment cost $")
    assert cost(shop, config, minute(SCENARIO.minutes))["severity"] == "HIGH"


def test_the_cost_alert_lasts_until_the_utc_day_ends(
    shop: Connection, config: TocsinConfig
) -> None:
    midnight = DEFAULT_START.replace(hour=0) + timedelta(days=1)
    assert cost(shop, config, midnight - timedelta(seconds=1))["severity"] == "HIGH"
    assert cost(shop, config, midnight)["value"] == -100
