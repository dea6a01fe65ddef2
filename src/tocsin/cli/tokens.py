"""`tocsin token create|list|revoke`: API tokens and inbound integration keys."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    fail,
    print_json,
    store,
    store_url,
    transaction,
    when,
)

app = typer.Typer(no_args_is_help=True, help="API tokens and integration keys.")


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who or what uses it (e.g. prometheus).")],
    scope: Annotated[
        str, typer.Option(help="Comma-separated: ingest, read, write (implies read), admin.")
    ] = "read",
    config: ConfigOption = None,
) -> None:
    """Create a token and print it once; only its SHA-256 is stored."""
    from tocsin.errors import Invalid
    from tocsin.tokens import service as auth

    try:
        scopes = auth.parse_scopes(scope)
    except Invalid as exc:
        fail(str(exc))
    with store(store_url(config)) as factory, transaction(factory) as session:
        _, token = auth.create(session, name, scopes, clock.now())
    console.print(token, markup=False)
    typer.echo(
        f"token {name!r} ({', '.join(sorted(scopes))}) created; it is shown only this once",
        err=True,
    )


@app.command("list")
def list_tokens(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Tokens with their scopes (never the tokens themselves)."""
    from tocsin.tokens import service as auth

    with store(store_url(config)) as factory, transaction(factory) as session:
        rows: list[dict[str, Any]] = [
            {
                "name": t.name,
                "prefix": t.prefix + "…",
                "scopes": t.scopes.split(","),
                "created_at": t.created_at,
                "revoked_at": t.revoked_at,
            }
            for t in auth.list_(session)
        ]
    if json:
        print_json(rows)
        return
    table = Table("name", "starts with", "scopes", "created (UTC)", "revoked")
    for t in rows:
        table.add_row(
            t["name"],
            t["prefix"],
            ", ".join(t["scopes"]),
            when(t["created_at"]),
            when(t["revoked_at"]),
        )
    console.print(table)


@app.command("revoke")
def revoke(name: str, config: ConfigOption = None) -> None:
    """Revoke a token at once (every running API forgets it within 1 second)."""
    from tocsin.tokens import service as auth

    with store(store_url(config)) as factory, transaction(factory) as session:
        auth.revoke(session, name, clock.now())
    console.print(f"token {name!r} revoked", markup=False)
