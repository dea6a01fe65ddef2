"""Customer impact in the post-mortem: each service's `incidents.impact` query, run on a real
PostgreSQL storefront over the incident's window, fills the draft with its figures; a source
that cannot answer says so in the draft; a configured query names a source that exists and
is SQL, or `config validate` says which."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import CONFIG
from tests.support.pg import pg_schema

from tocsin import actions
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.errors import ConfigError
from tocsin.incidents import service as incidents
from tocsin.incidents.service import NewIncident
from tocsin.pipeline import Pipeline

MINUTE = timedelta(minutes=1)
IMPACT = """
sources:
  shop: {{type: sql, url: "{url}"}}
incidents:
  timezone: America/New_York
  channels: [chat]
  impact:
    payments:
      source: shop
      query: >-
        SELECT count(*) AS orders_affected, coalesce(sum(total), 0) AS revenue_at_risk
        FROM orders WHERE status = 'failed' AND created_at >= :start AND created_at < :end
"""


@pytest.fixture
def shop(clock: VirtualClock) -> Iterator[str]:
    """A storefront on PostgreSQL: three failed orders inside the incident, one before it."""
    with pg_schema("shop") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE orders (id serial PRIMARY KEY, status text, "
                    "total numeric(10, 2), created_at timestamptz)"
                )
            )
            for minutes, total in ((-30, 10), (2, 49.5), (4, 120), (6, 30.25)):
                conn.execute(
                    text(
                        "INSERT INTO orders (status, total, created_at) VALUES ('failed', :t, :at)"
                    ),
                    {"t": total, "at": clock.now() + minutes * MINUTE},
                )
        engine.dispose()
        yield url


def config_text(url: str) -> str:
    base = CONFIG.split("incidents:")[0]  # the shared users, channels and routes
    return base + IMPACT.format(url=url)


def resolve_one(factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock) -> str:
    with session_scope(factory) as s:
        new = NewIncident(
            title="Payments failing", severity="SEV-1", services=["payments"], commander="ana"
        )
        incident_id = actions.incidents.declare(s, pipeline, new, "ana", clock.now()).id
    clock.advance(10 * MINUTE)
    with session_scope(factory) as s:
        actions.incidents.move(s, pipeline, incident_id, "resolved", "ana", clock.now())
    with session_scope(factory) as s:
        return incidents.get(s, incident_id).postmortem or ""


def test_the_impact_query_fills_the_post_mortem_with_its_figures(
    factory: sessionmaker[Session], clock: VirtualClock, shop: str
) -> None:
    config, _ = parse(config_text(shop), "tocsin.yaml", env={})
    text_ = resolve_one(factory, Pipeline(config), clock)
    assert "Figures over the impact's window (`incidents.impact`):" in text_
    assert "- payments: orders_affected = 3, revenue_at_risk = 199.75" in text_
    assert "not computed" not in text_


def test_a_source_that_cannot_answer_is_named_in_the_draft_and_resolving_goes_on(
    factory: sessionmaker[Session], clock: VirtualClock, closed_port: int
) -> None:
    down = f"postgresql+psycopg://nobody:secret@127.0.0.1:{closed_port}/shop"
    config, _ = parse(config_text(down), "tocsin.yaml", env={})
    text_ = resolve_one(factory, Pipeline(config), clock)
    line = next(line for line in text_.splitlines() if line.startswith("- payments:"))
    assert line.startswith("- payments: not computed (")
    assert "secret" not in text_


def test_an_impact_query_names_an_sql_source_that_exists() -> None:
    bad = config_text("sqlite:///shop.db").replace("source: shop", "source: nowhere")
    with pytest.raises(ConfigError, match="source 'nowhere' does not exist"):
        parse(bad, "tocsin.yaml", env={})
