"""Whole-store helpers: empty every table, or dump every row to compare two stores."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select, text

from tocsin.models import Base


def dump(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, comparable across runs (a notification's random id aside)."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "alert_change":
                # A log of writes, not state: which alerts changed, not how many times.
                found = conn.execute(select(table.c.fingerprint).distinct()).scalars()
                out[table.name] = sorted(found)
                continue
            rows = []
            for row in conn.execute(select(table)).mappings():
                values = dict(row)
                if table.name == "notification" and values["event_id"] is not None:
                    values.pop("id")  # uuid4
                rows.append(json.dumps(values, sort_keys=True, default=str))
            out[table.name] = sorted(rows)
    return out


def truncate(engine: Engine) -> None:
    """Empty every table of a PostgreSQL store, ids starting again at 1."""
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
