"""`tocsin silence add|list|expire`: mute alerts by label matchers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    store,
    store_url,
    transaction,
)
from tocsin.cli.noise import (
    AllOption,
    ByOption,
    DurationOption,
    EveryOption,
    ForOption,
    StartOption,
    UntilOption,
    ZoneOption,
    columns,
    end,
    listing,
    occurrence,
    recurrence,
    span_of,
)

if TYPE_CHECKING:
    from tocsin.noise.models import Silence

app = typer.Typer(no_args_is_help=True, help="Mute alerts by label matchers.")
SILENCE_COLUMNS = (
    "id",
    "matchers",
    "status",
    "starts_at",
    "ends_at",
    "recurs",
    "created_by",
    "comment",
    "muted",
)


@app.command("add")
def silence_add(
    matchers: Annotated[list[str], typer.Argument(help='Matchers like service="payments".')],
    comment: Annotated[str, typer.Option("--comment", help="Why.")],
    by: ByOption = "operator",
    for_: ForOption = None,
    until: UntilOption = None,
    start: StartOption = None,
    every: EveryOption = None,
    duration: DurationOption = None,
    timezone: ZoneOption = "UTC",
    config: ConfigOption = None,
) -> None:
    """Mute matching alerts; prints the silence id."""
    from tocsin.noise import silences

    now = clock.now()
    starts_at, ends_at = span_of(now, start, for_, until, every is not None)
    length = recurrence(every, duration)
    with store(store_url(config)) as factory, transaction(factory) as session:
        silence = silences.create_silence(
            session,
            matchers,
            starts_at,
            ends_at,
            by,
            comment,
            now=now,
            every=every,
            duration=length,
            timezone=timezone,
        )
        console.print(silence.id, markup=False)


def _silence_row(silence: Silence, now: datetime) -> dict[str, Any]:
    from tocsin.noise.schemas import silence_out

    row = silence_out(silence, now)
    return columns(
        row,
        SILENCE_COLUMNS,
        matchers=", ".join(row["matchers"]),
        recurs=occurrence(row),
        muted=row["suppressed"],
    )


@app.command("list")
def silence_list(
    all_: AllOption = False, json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Silences in force or scheduled (with --all, expired ones too)."""
    from tocsin.noise import silences

    listing(
        config,
        lambda session, now: [
            _silence_row(s, now) for s in silences.list_silences(session, now, include_expired=all_)
        ],
        SILENCE_COLUMNS,
        json,
    )


@app.command("expire")
def silence_expire(silence_id: str, config: ConfigOption = None) -> None:
    """End a silence now; alerts it muted that still fire are notified."""
    from tocsin.noise import silences

    end(config, silences.expire_silence, silence_id, f"silence {silence_id} expired")
