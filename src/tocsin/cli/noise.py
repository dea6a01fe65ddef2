"""What `tocsin silence`, `maintenance` and `known-issue` share (`cli/silences.py`,
`cli/maintenance.py`, `cli/known_issues.py`): their options, reading times and durations,
listing rows and ending one. Every command validates all its input before it writes
anything."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tocsin.cli import remote
from tocsin.cli.common import (
    clock,
    console,
    fail,
    print_json,
    store,
    store_url,
    transaction,
    when,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


AllOption = Annotated[bool, typer.Option("--all", help="Include expired ones.")]
ByOption = Annotated[str, typer.Option("--by", help="Who is creating it.")]
ForOption = Annotated[str | None, typer.Option("--for", help="How long, like 2h or 30m.")]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="When it ends, like 2026-11-22T04:00Z.")
]
StartOption = Annotated[str | None, typer.Option("--start", help="When it starts (default: now).")]
EveryOption = Annotated[
    str | None, typer.Option("--every", help="Recur on this cron schedule, like '0 2 * * sun'.")
]
DurationOption = Annotated[
    str | None, typer.Option("--duration", help="How long each occurrence lasts, like 2h.")
]
ZoneOption = Annotated[str, typer.Option("--timezone", help="The zone of --every.")]


def instant(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option} {text!r} is not a time like 2026-11-22T04:00Z")
    if value.tzinfo is None:
        fail(f"{option} {text!r} has no time zone: add Z (UTC) or an offset like +01:00")
    return value


def duration_of(text: str, option: str) -> timedelta:
    from tocsin.config import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        fail(f"{option}: {exc}")
    if value <= timedelta(0):
        fail(f"{option} must be longer than zero")
    return value


def span_of(
    now: datetime,
    start: str | None,
    for_: str | None,
    until: str | None,
    recurring: bool,
) -> tuple[datetime, datetime]:
    """The start and end from --start and one of --for / --until (optional if recurring)."""
    from tocsin.errors import Invalid
    from tocsin.noise.common import span

    if (for_ is None) == (until is None) and not (recurring and for_ is None and until is None):
        fail("give one of --for (like 2h) or --until (like 2026-11-22T04:00Z)")
    try:
        return span(
            now,
            instant(start, "--start") if start else None,
            instant(until, "--until") if until is not None else None,
            duration_of(for_, "--for") if for_ is not None else None,
        )
    except Invalid as exc:
        fail(str(exc))


def span_body(
    starts_at: datetime,
    ends_at: datetime,
    every: str | None,
    length: timedelta | None,
    timezone: str,
) -> dict[str, Any]:
    """When a silence or window holds, as the API's create bodies take it (`--server`)."""
    return {
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "every": every,
        "duration": None if length is None else f"{int(length.total_seconds())}s",
        "timezone": timezone,
    }


def recurrence(every: str | None, duration: str | None) -> timedelta | None:
    if (every is None) != (duration is None):
        fail("--every and --duration go together")
    return duration_of(duration, "--duration") if duration is not None else None


def columns(row: dict[str, Any], columns: Sequence[str], **shown: Any) -> dict[str, Any]:
    """A row as `/api/v1` answers it (`tocsin.noise.schemas`), laid out in the CLI's columns,
    the values in `shown` written as the CLI shows them."""
    return {c: shown[c] if c in shown else row[c] for c in columns}


def occurrence(row: dict[str, Any]) -> str:
    if row["every"] is None:
        return ""
    hours = timedelta(seconds=row["duration_seconds"] or 0)
    return f"every '{row['every']}' for {hours} ({row['timezone']})"


def end(
    config: Path | None,
    end: Callable[[Session, str, datetime], object],
    row_id: str,
    done: str,
    api: tuple[str, str] | None = None,
) -> None:
    """End a row now; with --server, through the API's (method, path) `api` instead."""
    if (server := remote.server()) is not None and api is not None:
        server.call(api[0], api[1])
        console.print(done, markup=False)
        return
    with store(store_url(config)) as factory, transaction(factory) as session:
        end(session, row_id, clock.now())
        console.print(done, markup=False)


def listing(
    config: Path | None,
    rows_of: Callable[[Session, datetime], list[dict[str, Any]]],
    columns: Sequence[str],
    json: bool,
    api: str | None = None,
    shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """List rows as the API answers them (`rows_of`, or with --server the API's `api` path
    with `all` as asked): --json prints them so, the table through `shape`."""
    if (server := remote.server()) is not None and api is not None:
        rows = server.call("GET", api)
    else:
        with store(store_url(config)) as factory, transaction(factory) as session:
            rows = rows_of(session, clock.now())
    if json or shape is None:
        print_rows(rows, columns, json)
        return
    print_rows([shape(r) for r in rows], columns, False)


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], json: bool) -> None:
    if json:
        print_json(list(rows))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(
            *(when(v) if isinstance(v, datetime) else str(v) for v in (row[c] for c in columns))
        )
    console.print(table)
