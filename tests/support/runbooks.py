"""Runbook steps under test: a storefront database (the demo's generator, small), the shipped
runbooks, a configuration naming both, an incident to run steps for."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.support.pg import PG_URL, pg_url

from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.demo.storefront import DEFAULT_START, Scenario, create_storefront
from tocsin.incidents import service as incidents
from tocsin.incidents.models import IncidentEvent
from tocsin.incidents.service import NewIncident
from tocsin.pipeline import Pipeline

SMALL = Scenario(history_days=3, log_history_hours=6, minutes=120)
NOW = DEFAULT_START + timedelta(minutes=100)  # inside the scenario's bad morning
SHIPPED = Path(str(resources.files("tocsin.examples").joinpath("runbooks")))


@pytest.fixture(scope="module")
def shop_pg() -> Iterator[str]:
    """A PostgreSQL database of its own holding the storefront, dropped afterwards."""
    name = f"tocsin_rbshop_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = pg_url(name)
        create_storefront(url, DEFAULT_START, SMALL)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def runbook_config(shop_url: str, extra: str = "", folder: Path = SHIPPED) -> TocsinConfig:
    config, _ = parse(runbook_yaml(shop_url, extra, folder), "test.yaml", env={})
    return config


def runbook_yaml(shop_url: str, extra: str = "", folder: Path = SHIPPED) -> str:
    return f"""
sources:
  shop: {{type: sql, url: "{shop_url}", statement_timeout: 5s}}
  site: {{type: http, url: "http://127.0.0.1:9/"}}
users:
  ana: {{email: ana@example.com}}
  bo: {{email: bo@example.com}}
runbooks:
  path: {folder}
{extra}
"""


def declare(
    factory: sessionmaker[Session], config: TocsinConfig, clock: VirtualClock, **fields: object
) -> str:
    new = NewIncident(
        title="Checkout failing",
        severity="SEV-1",
        services=["payments"],
        **fields,  # type: ignore[arg-type]
    )
    with session_scope(factory) as s:
        return incidents.declare(s, Pipeline(config), new, "ana", clock.now()).id


def step_events(factory: sessionmaker[Session], incident_id: str) -> list[IncidentEvent]:
    with session_scope(factory) as s:
        rows = s.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "runbook_step")
            .order_by(IncidentEvent.id)
        ).all()
        s.expunge_all()
    return list(rows)


TOOLS = """---
id: tools
title: Tools
severity: WARNING
expected_duration: 5m
source: shop
params:
  name: {prompt: "Who to greet"}
  order_id: {prompt: "An order", pattern: "^[0-9]+$"}
  now: now
  token: {env: TOOLS_TOKEN}
---
# Tools

## Symptoms/Detection

- Something is off.

## Resolution Steps

1. Count the orders
   ```sql {"test": "orders > 0"}
   SELECT COUNT(*) AS orders FROM orders WHERE created_at <= :now
   ```
2. Greet
   ```sh {"mode": "read", "timeout": "5s"}
   echo hello ${NAME}
   ```
3. Wait too long
   ```sh {"mode": "read", "timeout": "1s"}
   sleep 30
   ```
4. Say a lot
   ```sh {"mode": "read"}
   seq 1 40000
   ```
5. Show the environment
   ```sh {"mode": "read"}
   env
   ```
6. Too slow a query
   ```sql {"dialect": "postgresql", "timeout": "1s"}
   SELECT pg_sleep(5)
   ```
7. Mark an order
   ```sql {"mode": "write"}
   UPDATE orders SET status = status WHERE id = CAST(:order_id AS integer)
   ```
8. Print the token
   ```sh {"mode": "read"}
   echo token=${TOKEN} and ${TOKEN}
   ```
9. Pipe
   ```sh {"mode": "read"}
   seq 1 3 | head -n 1
   ```

## Verification Steps

- [ ] Orders counted

## Escalation Criteria

- Nobody knows.
"""

SHELL_ON = """  shell: {enabled: true, allow: [echo, sleep, seq, env, head]}
  writable_sources: [shop]"""


def tools_folder(tmp: Path) -> Path:
    folder = tmp / "runbooks"
    folder.mkdir(exist_ok=True)
    (folder / "tools.md").write_text(TOOLS, encoding="utf-8")
    return folder
