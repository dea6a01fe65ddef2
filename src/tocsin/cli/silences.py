"""`tocsin silence add|list|expire`: mute alerts by label matchers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tocsin.cli import remote
from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    print_json,
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
    occurrence,
    print_rows,
    recurrence,
    span_body,
    span_of,
)

if TYPE_CHECKING:
    pass

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
    if (server := remote.server()) is not None:
        body = {
            "matchers": matchers,
            "comment": comment,
            "created_by": by,
            **span_body(starts_at, ends_at, every, length, timezone),
        }
        made = server.call("POST", "/api/v1/silences", body=body)
        console.print(made["id"], markup=False)
        return
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


def _silence_row(row: dict[str, Any]) -> dict[str, Any]:
    """A silence as the API answers it (`noise.schemas.silence_out`), in the table's columns."""
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
    """Silences in force or scheduled (with --all, expired ones too). `--json` prints them
    as the API answers them (matchers a list)."""
    if (server := remote.server()) is not None:
        rows = server.call("GET", "/api/v1/silences", params={"all": "true" if all_ else "false"})
    else:
        from tocsin.noise import silences
        from tocsin.noise.schemas import silence_out

        with store(store_url(config)) as factory, transaction(factory) as session:
            now = clock.now()
            found = silences.list_silences(session, now, include_expired=all_)
            rows = [silence_out(s, now) for s in found]
    if json:
        print_json(rows)
        return
    print_rows([_silence_row(r) for r in rows], SILENCE_COLUMNS, False)


@app.command("expire")
def silence_expire(silence_id: str, config: ConfigOption = None) -> None:
    """End a silence now; alerts it muted that still fire are notified."""
    from tocsin.noise import silences

    if (server := remote.server()) is not None:
        server.call("DELETE", f"/api/v1/silences/{remote.segment(silence_id)}")
        console.print(f"silence {silence_id} expired", markup=False)
        return

    end(config, silences.expire_silence, silence_id, f"silence {silence_id} expired")
