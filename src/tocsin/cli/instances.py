"""`tocsin instances`: the `tocsin run` processes sharing this store, who is alive, what each
holds right now (checks being evaluated, notifications being sent), what each took over from
an instance that died, and whether it claims work (rolling upgrades)."""

from __future__ import annotations

from dataclasses import asdict

from rich.table import Table

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    optional_config,
    print_json,
    store,
    transaction,
    when,
)


def instances(config: ConfigOption = None, json: JsonOption = False) -> None:
    """The instances sharing the store: alive or not, status, leases held, rows taken over."""
    from tocsin.config import TocsinConfig
    from tocsin.instances import service

    loaded = optional_config(config)
    interval = (loaded.config if loaded else TocsinConfig()).worker.heartbeat_interval
    with store(loaded, check_version=False) as factory, transaction(factory) as session:
        rows = service.listing(session, clock.now(), interval)
    if json:
        print_json([asdict(row) for row in rows])
        return
    table = Table(
        "instance", "alive", "status", "schema", "beat (UTC)", "checks", "sending", "taken over"
    )
    for row in rows:
        table.add_row(
            row.id,
            "yes" if row.alive else ("stopped" if row.stopped_at else "no"),
            row.status,
            row.schema or "—",
            when(row.heartbeat_at),
            str(row.checks_held),
            str(row.notifications_held),
            str(row.taken_over),
        )
    console.print(table)
