"""`tocsin audit list`: who did what, when, from where, through which interface."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tocsin.cli import remote
from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    optional_config,
    print_json,
    store,
    transaction,
    when,
)

app = typer.Typer(no_args_is_help=True, help="The audit log of operator actions.")


@app.command("list")
def list_events(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this user's actions.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action (login, login.failed, alert.ack, …).")
    ] = None,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Audit rows, newest first (with --server, a token with the admin scope)."""
    rows: list[dict[str, Any]]
    if (server := remote.server()) is not None:
        asked = {"actor": actor, "action": action}
        params = {"limit": str(limit), **{k: v for k, v in asked.items() if v is not None}}
        rows = server.call("GET", "/api/v1/audit", params=params)
    else:
        from tocsin.console import audit

        with store(optional_config(config)) as factory, transaction(factory) as session:
            found = audit.list_(session, limit=limit, actor=actor, action=action)
            rows = [audit.as_json(r) for r in found]
    if json:
        print_json(rows)
        return
    table = Table("when (UTC)", "who", "action", "target", "through", "from")
    for row in rows:
        table.add_row(
            when(row["at"]),
            row["actor"],
            row["action"],
            row["target"] or "",
            row["interface"],
            row["address"] or "",
        )
    console.print(table)
