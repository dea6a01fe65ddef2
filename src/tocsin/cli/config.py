"""`tocsin config validate|show`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.common import ConfigOption, console, fail, load_config

app = typer.Typer(no_args_is_help=True, help="Check and print the configuration.")

FileArgument = Annotated[
    Path | None,
    typer.Argument(
        help="The file to check (default: -c, $TOCSIN_CONFIG or ./tocsin.yaml).",
        show_default=False,
    ),
]


@app.command("validate")
def validate(file: FileArgument = None, config: ConfigOption = None) -> None:
    """Validate the configuration; exit 1 naming file, line and field of every mistake, all
    in one pass and sorted by line."""
    if file is not None and config is not None and file != config:
        fail(f"two files given ({file} and -c {config}); give one")
    loaded = load_config(file or config)
    cfg = loaded.config
    console.print(
        f"{loaded.path}: valid — {len(cfg.sources)} sources, {len(cfg.checks)} checks, "
        f"{len(cfg.channels)} channels"
    )


@app.command("show")
def show(config: ConfigOption = None) -> None:
    """Print the effective configuration with every secret masked."""
    import yaml

    from tocsin import config as configuration

    loaded = load_config(config)
    console.print(yaml.safe_dump(configuration.masked(loaded), sort_keys=False), markup=False)
