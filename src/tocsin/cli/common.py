"""What every command shares: the console, loading config and store, printing errors.

`tocsin --help` imports every command module, so these modules import only Typer, Rich and
what is light at their top; a command imports the store, the configuration and the domain
modules it uses in its own body (`tests/cli/test_startup.py` holds them to it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from tocsin.clock import SystemClock

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from tocsin.config import LoadedConfig

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="TOCSIN_CONFIG",
        show_envvar=True,
        exists=True,  # a file named by -c or $TOCSIN_CONFIG must be there: exit 2 otherwise
        dir_okay=False,
        help="Configuration file (default: ./tocsin.yaml).",
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
    from rich.logging import RichHandler

    handler: logging.Handler
    if err_console.is_terminal:
        handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)


def load_config(path: Path | None) -> LoadedConfig:
    from tocsin import config as configuration
    from tocsin.errors import ConfigError

    try:
        return configuration.load(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
        fail(f"{len(exc.problems)} problem(s) in the configuration; nothing was changed")


def optional_config(path: Path | None) -> LoadedConfig | None:
    """The configuration if there is one: store-only commands work without it when the
    default ./tocsin.yaml is missing (a file named by -c or $TOCSIN_CONFIG must exist)."""
    if path is None:
        from tocsin.config import config_path

        default = config_path(None)
        return load_config(default) if default.exists() else None
    return load_config(path)


def store_url(path: Path | None) -> str:
    """The store's URL alone, for the commands that use nothing else of the configuration:
    the rest of the file is not validated (`tocsin config validate` does that), so they start
    faster and still work while a channel's `${VAR}` is unset."""
    from tocsin.config.locate import store_url as locate
    from tocsin.errors import ConfigError

    try:
        return locate(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
        fail(f"{len(exc.problems)} problem(s) in the configuration; nothing was changed")


def engine_for(where: LoadedConfig | str | None, *, create: bool = False) -> Engine:
    """The store's engine, from the loaded configuration or the store's URL alone. Unless
    `create`, a SQLite store must already exist: a command that only reads or changes rows
    never leaves an empty store file behind."""
    from sqlalchemy.engine import make_url

    from tocsin.config.locate import store_url as locate
    from tocsin.db import make_engine

    if isinstance(where, str):
        url = where
    elif where is not None:
        url = where.database_url
    else:
        url = locate(None)
    parsed = make_url(url)
    if not create and parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database not in ("", ":memory:") and not Path(database).exists():
            fail(
                f"there is no store at {database} ({masked_url(url)}); create it with "
                "`tocsin db upgrade`, or point store.url or $TOCSIN_DATABASE_URL at yours"
            )
    return make_engine(url)


def masked_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def unreachable(engine: Engine, exc: Exception) -> NoReturn:
    """One line for a store that cannot be reached: where, why, and what to check."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    fail(
        f"cannot reach the store {engine.url.render_as_string(hide_password=True)}: {reason}. "
        "Check store.url in the configuration (or $TOCSIN_DATABASE_URL) and that the "
        "database is running and accepts this user."
    )


@contextmanager
def reaching(engine: Engine) -> Iterator[None]:
    """Turn a store that cannot be reached into `unreachable`'s one line."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        unreachable(engine, exc)


@contextmanager
def store(
    where: LoadedConfig | str | None, check_version: bool = True, *, create: bool = False
) -> Iterator[sessionmaker[Session]]:
    from tocsin import store as versions
    from tocsin.db import make_sessionmaker
    from tocsin.errors import TocsinError

    engine = engine_for(where, create=create)
    try:
        with reaching(engine):
            if check_version:
                versions.ensure_current(engine)
            yield make_sessionmaker(engine)
    except TocsinError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    from tocsin.db import session_scope
    from tocsin.errors import TocsinError

    try:
        with session_scope(factory) as session:
            yield session
    except TocsinError as exc:
        fail(str(exc))


def print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=_default))


def _default(value: Any) -> Any:
    """Times as the API writes them: UTC as `…Z` (RFC 3339), so local and `--server` agree."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return str(value)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def audited(
    session: Session,
    action: str,
    now: datetime,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """The audit row of a CLI action, in its transaction, naming the OS account."""
    from tocsin.console import audit

    audit.record(
        session,
        actor=os_user(),
        action=action,
        interface="cli",
        now=now,
        target=target,
        detail=detail,
    )


def os_user() -> str:
    """Who runs the command, for the audit log (the OS account)."""
    import getpass

    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"
