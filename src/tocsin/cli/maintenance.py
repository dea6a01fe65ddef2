"""`tocsin maintenance add|list|end`: maintenance windows per service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tocsin.cli import remote
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
    ZoneOption,
    columns,
    end,
    listing,
    occurrence,
    recurrence,
    span_body,
    span_of,
)

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True, help="Maintenance windows per service.")
WINDOW_COLUMNS = (
    "id",
    "title",
    "services",
    "status",
    "starts_at",
    "ends_at",
    "recurs",
    "created_by",
    "muted",
    "public",
)


@app.command("add")
def maintenance_add(
    title: Annotated[str, typer.Option("--title")],
    services: Annotated[str, typer.Option("--services", help="Affected services: a,b.")],
    description: Annotated[str, typer.Option("--description")] = "",
    by: ByOption = "operator",
    start: StartOption = None,
    end: Annotated[str | None, typer.Option("--end", help="When it ends.")] = None,
    for_: ForOption = None,
    every: EveryOption = None,
    duration: DurationOption = None,
    timezone: ZoneOption = "UTC",
    public: Annotated[
        bool, typer.Option("--public", help="Show it on the status page as scheduled maintenance.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Schedule a window: alerts of these services are recorded, not notified."""
    from tocsin.noise import maintenance

    now = clock.now()
    starts_at, ends_at = span_of(now, start, for_, end, every is not None)
    length = recurrence(every, duration)
    if (server := remote.server()) is not None:
        body = {
            "title": title,
            "services": [s.strip() for s in services.split(",") if s.strip()],
            "description": description,
            "created_by": by,
            **span_body(starts_at, ends_at, every, length, timezone),
        }
        console.print(server.call("POST", "/api/v1/maintenance", body=body)["id"], markup=False)
        return
    with store(store_url(config)) as factory, transaction(factory) as session:
        window = maintenance.create_window(
            session,
            title,
            services.split(","),
            starts_at,
            ends_at,
            by,
            now=now,
            description=description,
            every=every,
            duration=length,
            timezone=timezone,
            public=public,
        )
        console.print(window.id, markup=False)


def _window_row(row: dict[str, Any]) -> dict[str, Any]:
    """A window as the API answers it (`noise.schemas.window_out`), in the table's columns."""
    return columns(
        row,
        WINDOW_COLUMNS,
        services=", ".join(row["services"]),
        recurs=occurrence(row),
        muted=row["suppressed"],
    )


@app.command("list")
def maintenance_list(
    all_: AllOption = False, json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Windows in force or scheduled (with --all, ended ones too); `--json` as the API."""
    from tocsin.noise import maintenance
    from tocsin.noise.schemas import window_out

    listing(
        config,
        lambda session, now: [
            window_out(w, now) for w in maintenance.list_windows(session, now, include_ended=all_)
        ],
        WINDOW_COLUMNS,
        json,
        api=f"/api/v1/maintenance?all={'true' if all_ else 'false'}",
        shape=_window_row,
    )


@app.command("end")
def maintenance_end(window_id: str, config: ConfigOption = None) -> None:
    """End a window now (or cancel one scheduled ahead)."""
    from tocsin.noise import maintenance

    path = f"/api/v1/maintenance/{remote.segment(window_id)}/end"
    done = f"maintenance window {window_id} ended"
    end(config, maintenance.end_window, window_id, done, ("POST", path))
