"""The storefront demo database: 30 days of a print-on-demand shop, then one bad morning.

`create_storefront(url, start, scenario)` (re)creates five tables of reference 000 — `orders`,
`system_logs`, `fulfillment_events`, `manual_queue`, and `provider_config`, which its provider
failover runbook changes — and fills them from `random.Random(seed)`,
so the same arguments always give the same rows, on SQLite and on PostgreSQL alike.

Timestamps are UTC. SQLite stores them as TEXT `YYYY-MM-DD HH:MM:SS`, the form Tocsin's SQL
source binds its time parameters in, so `created_at > :since` compares text correctly;
PostgreSQL stores `timestamptz`. On PostgreSQL the tables go to the first schema of the
connection's `search_path`: give each storefront its own schema with a URL such as
`postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dshop` (the schema
must exist; existing storefront tables in it are dropped first).

The whole scenario is written at once, including rows "in the future" of a virtual clock, so
queries over it must bound time on both sides (`created_at <= :now`), and a queue item counts
as pending at `:now` when it was created by then and not yet completed (`completed_at`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import create_engine

from tocsin.demo.scenario import DEFAULT_START, NEW_YORK, Row, Scenario, scenario_events
from tocsin.demo.shop_data import generate
from tocsin.demo.shop_schema import metadata

# What callers use, whichever module of the storefront defines it.
__all__ = [
    "DEFAULT_START",
    "NEW_YORK",
    "Scenario",
    "create_storefront",
    "generate",
    "metadata",
    "scenario_events",
]


def create_storefront(
    url: str, start: datetime = DEFAULT_START, scenario: Scenario | None = None
) -> None:
    """(Re)create the storefront tables at `url` and fill them for `scenario` from `start`."""
    rows = generate(start, scenario or Scenario())
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.drop_all(conn)
            metadata.create_all(conn)
            for table in metadata.sorted_tables:
                for chunk in _chunks(rows[table.name], 10_000):
                    conn.execute(table.insert(), chunk)
    finally:
        engine.dispose()


def _chunks(rows: list[Row], size: int) -> Iterator[list[Row]]:
    for begin in range(0, len(rows), size):
        yield rows[begin : begin + size]
