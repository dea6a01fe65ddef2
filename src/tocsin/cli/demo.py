"""`tocsin demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.common import console


def demo(
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep the demo's store and storefront database in this folder."),
    ] = None,
) -> None:
    """Run the storefront scenario on a virtual clock: hours of checks in seconds."""
    from tocsin.demo.runner import run_demo

    run_demo(console, workdir=keep)
