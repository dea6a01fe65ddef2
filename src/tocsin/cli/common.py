"""What every command shares: the console, loading config and store, printing errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tocsin import config as configuration
from tocsin.clock import SystemClock
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.errors import ConfigError, TocsinError

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Configuration file (default: $TOCSIN_CONFIG or ./tocsin.yaml)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
clock = SystemClock()


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def setup_logging(verbose: bool = False) -> None:
    """Rich's layout on a terminal; one plain line per record elsewhere (a journal, a file,
    a container's log: Rich would wrap them at 80 columns, for about 1 ms each). httpx logs
    every request at INFO: one line per notification sent, so it speaks only with -v."""
    handler: logging.Handler
    if err_console.is_terminal:
        handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)


def load_config(path: Path | None) -> configuration.LoadedConfig:
    try:
        return configuration.load(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
        fail(f"{len(exc.problems)} problem(s) in the configuration; nothing was changed")


def optional_config(path: Path | None) -> configuration.LoadedConfig | None:
    """The configuration if there is one; store-only commands work without it."""
    candidate = configuration.config_path(path)
    if path is None and not candidate.exists():
        return None
    return load_config(candidate)


def engine_for(loaded: configuration.LoadedConfig | None) -> Engine:
    url = loaded.database_url if loaded else configuration.database_url()
    return make_engine(url)


@contextmanager
def store(
    loaded: configuration.LoadedConfig | None, check_version: bool = True
) -> Iterator[sessionmaker[Session]]:
    from tocsin import store as versions

    engine = engine_for(loaded)
    try:
        if check_version:
            versions.ensure_current(engine)
        yield make_sessionmaker(engine)
    except TocsinError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    try:
        with session_scope(factory) as session:
            yield session
    except TocsinError as exc:
        fail(str(exc))


def print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"
