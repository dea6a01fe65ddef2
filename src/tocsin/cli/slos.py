"""`tocsin slo list|show`: each SLO's error budget, its status and its burn rates."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    fail,
    load_config,
    print_json,
    store,
    transaction,
)

app = typer.Typer(no_args_is_help=True, help="Service-level objectives and error budgets.")


def _readings(config: ConfigOption, name: str | None = None) -> list[dict[str, Any]]:
    from tocsin.reports import slos

    loaded = load_config(config)
    configured = loaded.config.slos
    if name is not None and name not in configured:
        known = ", ".join(sorted(configured)) or "none are configured"
        fail(f"no SLO named {name!r} (known: {known})")
    wanted = {name: configured[name]} if name is not None else configured
    now = clock.now()
    with store(loaded) as factory, transaction(factory) as session:
        return [slos.read(session, n, slo, now).as_dict() for n, slo in sorted(wanted.items())]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f} %"


@app.command("list")
def list_slos(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Every SLO: objective, window, attained, budget left and status."""
    data = _readings(config)
    if json:
        print_json(data)
        return
    table = Table("slo", "service", "objective", "window", "attained", "budget left", "status")
    for d in data:
        table.add_row(
            d["name"],
            d["service"],
            f"{d['objective']:g} %",
            d["window"],
            _percent(d["attained_percent"]),
            f"{d['budget_remaining_percent']:.1f} % ({d['remaining_minutes']:.1f} min)",
            d["status"],
        )
    console.print(table)


@app.command("show")
def show_slo(
    name: Annotated[str, typer.Argument(help="The SLO's name (`tocsin slo list`).")],
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """One SLO: its budget in percent and minutes, and each burn-rate pair now."""
    (d,) = _readings(config, name)
    if json:
        print_json(d)
        return
    console.print(f"[bold]{d['name']}[/bold] ({d['service']}, {d['kind']})")
    if d["description"]:
        console.print(d["description"])
    console.print(
        f"objective {d['objective']:g} % over {d['window']} "
        f"({d['start'][:16]} to {d['end'][:16]} UTC); attained {_percent(d['attained_percent'])}"
    )
    console.print(
        f"error budget: {d['budget_remaining_percent']:.1f} % left, "
        f"{d['remaining_minutes']:.1f} of {d['budget_minutes']:.1f} min — {d['status']}"
    )
    table = Table("windows", "factor", "tier", "long", "short", "burning")
    for b in d["burns"]:
        table.add_row(
            f"{b['long']}/{b['short']}",
            f"{b['factor']:g}x",
            b["tier"],
            f"{b['long_rate']:.2f}x",
            f"{b['short_rate']:.2f}x",
            "yes" if b["burning"] else "no",
        )
    console.print(table)
