"""`tocsin init`, `tocsin db upgrade|current`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.common import (
    ConfigOption,
    console,
    engine_for,
    fail,
    reaching,
    store_url,
)

db_app = typer.Typer(no_args_is_help=True, help="Manage the store's schema.")


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter file.")] = Path(
        "tocsin.yaml"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter tocsin.yaml with the five storefront checks, and the
    eighteen runbooks of the reference documents in runbooks/ beside it."""
    from importlib import resources

    if path.exists() and not force:
        fail(f"{path} already exists; pass --force to overwrite it")
    examples = resources.files("tocsin.examples")
    path.write_text(examples.joinpath("starter.yaml").read_text("utf-8"), encoding="utf-8")
    folder = path.parent / "runbooks"
    folder.mkdir(exist_ok=True)
    copied = kept = 0
    for item in sorted(examples.joinpath("runbooks").iterdir(), key=lambda i: i.name):
        if not item.name.endswith(".md"):
            continue
        target = folder / item.name
        if target.exists() and not force:
            kept += 1  # an edited runbook is the team's own: only --force replaces it
            continue
        target.write_text(item.read_text("utf-8"), encoding="utf-8")
        copied += 1
    unchanged = f" ({kept} already there, kept)" if kept else ""
    console.print(
        f"wrote {path} and {copied} runbooks in {folder}{unchanged}: set SHOP_DATABASE_URL "
        f"(or edit the DSN), then run `tocsin config validate` and `tocsin db upgrade`"
    )


@db_app.command("upgrade")
def upgrade(config: ConfigOption = None) -> None:
    """Apply every pending migration to the store (creating it if need be)."""
    from tocsin import store as versions

    engine = engine_for(store_url(config), create=True)
    with reaching(engine):
        before = versions.current(engine)
        versions.upgrade(engine)
        after = versions.current(engine)
    console.print(
        f"store {engine.url.render_as_string(hide_password=True)}: {before or 'empty'} → {after}"
    )


@db_app.command("current")
def current(config: ConfigOption = None) -> None:
    """Print the store's schema revision and the one this Tocsin needs."""
    from tocsin import store as versions

    engine = engine_for(store_url(config))
    with reaching(engine):
        found = versions.current(engine)
    console.print(f"store at {found or 'none'}; code needs {versions.head()}")
