"""`tocsin stats noise`: figures about Tocsin's own alerting."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

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
from tocsin.cli.noise import duration_of

app = typer.Typer(no_args_is_help=True, help="Figures about Tocsin's own alerting.")


@app.command("noise")
def stats_noise(
    since: Annotated[str, typer.Option("--since", help="How far back, like 7d.")] = "7d",
    quick: Annotated[
        str, typer.Option("--quick", help="'Resolved on its own' means within this.")
    ] = "5m",
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Alert fatigue, per check and overall: notifications/day, alerts resolved unacknowledged
    within --quick, acknowledgements marked noise, MTTA, what noise control muted."""
    from tocsin.noise.stats import noise_stats

    span, window = duration_of(since, "--since"), duration_of(quick, "--quick")
    now = clock.now()
    with store(store_url(config)) as factory, transaction(factory) as session:
        figures = [f.as_dict() for f in noise_stats(session, now - span, now, quick=window)]
    if json:
        print_json(figures)
        return
    table = Table(
        "check",
        "alerts",
        "notifications/day",
        f"resolved < {quick} unacked",
        "marked noise",
        "MTTA",
        "noise %",
        "muted",
        title=f"alert fatigue, last {since}",
    )
    for f in figures:
        mtta = "—" if f["mtta_seconds"] is None else f"{f['mtta_seconds'] / 60:.1f} min"
        ratio = "—" if f["noise_ratio"] is None else f"{100 * f['noise_ratio']:.1f}"
        muted = ", ".join(f"{k} {v}" for k, v in f["suppressed"].items()) or "—"
        table.add_row(
            f["check"],
            str(f["alerts"]),
            f"{f['notifications_per_day']:g}",
            str(f["resolved_unacknowledged_quickly"]),
            str(f["marked_noise"]),
            mtta,
            ratio,
            muted,
        )
    console.print(table)
