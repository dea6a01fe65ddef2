"""The shipped reports (storefront.yaml and the starter `tocsin init` writes) run against the
generated storefront on SQLite and PostgreSQL: every section's SQL runs, and the morning
after the scenario's bad morning needs attention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.pg import pg_schema

from tocsin.checks.sources import open_source
from tocsin.config import parse
from tocsin.demo.storefront import DEFAULT_START, Scenario, create_storefront
from tocsin.reports.build import build
from tocsin.reports.render import markdown


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shop_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}"
        create_storefront(url, DEFAULT_START, Scenario())
        yield url
    else:
        with pg_schema("shop") as url:
            create_storefront(url, DEFAULT_START, Scenario())
            yield url


@pytest.mark.parametrize("name", ["storefront.yaml", "starter.yaml"])
def test_the_shipped_reports_run_on_the_storefront(
    name: str, shop_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = resources.files("tocsin.examples").joinpath(name).read_text("utf-8")
    config, _ = parse(text, name, env={"SHOP_DATABASE_URL": shop_url})
    assert list(config.reports) == ["daily", "weekly", "monthly"]
    source = open_source(config.sources["shop"])
    at = DEFAULT_START + timedelta(hours=3)  # the bad morning is behind
    try:
        built = {
            n: build(n, spec, at, factory, lambda _: source, config.slos)
            for n, spec in config.reports.items()
        }
    finally:
        source.close()
    for report in built.values():
        assert [s.error for s in report.sections] == [None] * len(report.sections), report.name
    daily = built["daily"]
    orders = daily.sections[0]
    assert orders.rows[0]["orders"] > 0
    providers = {row["provider"] for row in daily.sections[1].rows}
    assert providers <= {"printful", "printify"}
    assert providers
    assert daily.sections[-1].kind == "figures"
    assert daily.status == "needs_attention"  # the scenario's errors and queue
    weekly = {s.title: s for s in built["weekly"].sections}
    tables = {row["table_name"] for row in weekly["Largest tables"].rows}
    assert {"orders", "fulfillment_events"} <= tables
    assert weekly["Largest tables"].level == "ok"
    monthly = built["monthly"].sections[-1]
    assert monthly.kind == "slos"
    names = [slo["name"] for slo in monthly.figures["slos"]]
    assert names == ["fulfillment-latency", "payments", "storefront-errors"]
    text_out = markdown(daily)
    assert text_out.startswith("# Daily health check — Tue 2026-11-17 12:00 EST")
