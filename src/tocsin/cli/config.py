"""`tocsin config validate|show|schema`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.common import ConfigOption, console, err_console, fail, load_config

app = typer.Typer(no_args_is_help=True, help="Check and print the configuration.")

FileArgument = Annotated[
    Path | None,
    typer.Argument(
        help="The file to check (default: -c, $TOCSIN_CONFIG or ./tocsin.yaml).",
        show_default=False,
    ),
]


@app.command("validate")
def validate(
    file: FileArgument = None,
    config: ConfigOption = None,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Check the file only: connect to no SQL source."),
    ] = False,
) -> None:
    """Validate the configuration; exit 1 naming file, line and field of every mistake, all
    in one pass and sorted by line. Then connect to each PostgreSQL source and warn when its
    role can do more than read (a superuser can run shell commands from a read-only query)."""
    if file is not None and config is not None and file != config:
        fail(f"two files given ({file} and -c {config}); give one")
    loaded = load_config(file or config)
    cfg = loaded.config
    console.print(
        f"{loaded.path}: valid — {len(cfg.sources)} sources, {len(cfg.checks)} checks, "
        f"{len(cfg.channels)} channels"
    )
    if offline:
        return
    from tocsin.checks.sources.roles import check_roles

    for found in check_roles(cfg.sources):
        if found.warning:
            err_console.print(f"warning: sources.{found.source} {found.warning}", markup=False)
        else:
            err_console.print(
                f"note: sources.{found.source}: cannot connect to check its role "
                f"({found.unchecked}); `tocsin run` checks again when it starts",
                markup=False,
            )


@app.command("show")
def show(config: ConfigOption = None) -> None:
    """Print the effective configuration with every secret masked."""
    import yaml

    from tocsin import config as configuration

    loaded = load_config(config)
    console.print(yaml.safe_dump(configuration.masked(loaded), sort_keys=False), markup=False)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of tocsin.yaml, for an editor: save it, then start the file with
    `# yaml-language-server: $schema=tocsin.schema.json`."""
    import json

    from tocsin.config.reference import schema as json_schema

    typer.echo(json.dumps(json_schema(), indent=2))
