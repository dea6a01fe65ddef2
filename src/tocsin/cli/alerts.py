"""`tocsin alerts list|show|ack|resolve`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tocsin.cli import remote
from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    fail,
    optional_config,
    print_json,
    store,
    store_url,
    transaction,
    when,
)

if TYPE_CHECKING:
    from tocsin.config import LoadedConfig, TocsinConfig

app = typer.Typer(no_args_is_help=True, help="List, inspect, acknowledge and resolve alerts.")
STATES = ("open", "firing", "acknowledged", "resolved")
COLOURS = {"CRITICAL": "bold red", "HIGH": "red", "WARNING": "yellow", "INFO": "blue"}


@app.command("list")
def list_alerts(
    state: Annotated[str | None, typer.Option(help=f"One of {', '.join(STATES)}.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Alerts, newest first."""
    if state is not None and state not in STATES:
        raise typer.BadParameter(
            f"{state!r} is not one of {', '.join(STATES)}", param_hint="--state"
        )
    if (server := remote.server()) is not None:
        params = {"limit": str(limit), **({"state": state} if state else {})}
        rows = server.call("GET", "/api/v1/alerts", params=params)
    else:
        from tocsin.alerts import service as alerts
        from tocsin.alerts.schemas import alert_out

        with store(store_url(config)) as factory, transaction(factory) as session:
            rows = [alert_out(a) for a in alerts.list_(session, state=state, limit=limit)]
    if json:
        print_json(rows)
        return
    table = Table("id", "severity", "state", "title", "started (UTC)", "by")
    for a in rows:
        colour = COLOURS.get(a["severity"], "")
        table.add_row(
            str(a["id"]),
            f"[{colour}]{a['severity']}[/]",
            a["state"],
            a["title"],
            when(a["started_at"]),
            a["acknowledged_by"] or "",
        )
    console.print(table)


@app.command("show")
def show(alert_id: int, config: ConfigOption = None, json: JsonOption = False) -> None:
    """One alert with its timeline and notifications."""
    remote.local_only("tocsin alerts show")
    from tocsin.alerts import service as alerts
    from tocsin.noise.mutes import explain
    from tocsin.outbox.schemas import alert_detail

    with store(store_url(config)) as factory, transaction(factory) as session:
        alert = alert_detail(session, alert_id)
        why = explain(session, alerts.get(session, alert_id))
    events, sent = alert["timeline"], alert["notifications"]
    if json:
        print_json({**alert, "noise": why})
        return
    console.print(
        f"[bold]#{alert['id']} {alert['title']}[/]  "
        f"[{COLOURS.get(alert['severity'], '')}]{alert['severity']}[/] {alert['state']}"
    )
    console.print(f"{alert['message']}", markup=False)
    labels = ", ".join(f"{k}={v}" for k, v in alert["labels"].items())
    console.print(f"labels: {labels or '—'}   fingerprint: {alert['fingerprint']}", markup=False)
    if alert["runbook"]:
        console.print(f"runbook: {alert['runbook']}", markup=False)
    console.print(f"paging: {why['summary']}", markup=False)
    table = Table("at (UTC)", "event", "state", "severity", "by", "note", title="timeline")
    for e in events:
        table.add_row(
            when(e["at"]),
            e["kind"],
            f"{e['from'] or '—'} → {e['to']}",
            e["severity"] or "",
            e["actor"] or "",
            e["note"] or "",
        )
    console.print(table)
    if sent:
        table = Table("event", "to", "state", "attempts", "sent", "error", title="notifications")
        for n in sent:
            step = f" (step {n['step']})" if n["step"] else ""
            table.add_row(
                f"{n['event']}{step}",
                f"{n['channel']} → {n['target']}" if n["target"] else n["channel"],
                n["state"],
                str(n["attempts"]),
                when(n["sent_at"]),
                n["last_error"] or "",
            )
        console.print(table)


def _config(config_path: Any) -> tuple[LoadedConfig | None, TocsinConfig]:
    from tocsin.config import TocsinConfig

    loaded = optional_config(config_path)
    return loaded, loaded.config if loaded else TocsinConfig()


@app.command("ack")
def ack(
    alert_id: int,
    by: Annotated[str, typer.Option("--by", help="Who is acknowledging.")],
    note: Annotated[str | None, typer.Option(help="A note for the timeline.")] = None,
    noise: Annotated[
        bool, typer.Option("--noise", help="It needed no action: count it as noise.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Acknowledge a firing alert (stops its escalation)."""
    if (server := remote.server()) is not None:
        if noise:
            fail("--noise does not work with --server yet; acknowledge, then mark it locally")
        server.call("POST", f"/api/v1/alerts/{alert_id}/ack", body={"by": by, "note": note})
        console.print(f"alert {alert_id} acknowledged by {by}", markup=False)
        return
    from tocsin import actions
    from tocsin.noise import stats as noise_stats
    from tocsin.pipeline import Pipeline

    loaded, cfg = _config(config)
    with store(loaded) as factory, transaction(factory) as session:
        alert, _ = actions.alerts.acknowledge(
            session, Pipeline(cfg), alert_id, by, clock.now(), note
        )
        if noise:
            noise_stats.mark_noise(session, alert_id, by, clock.now())
        marked = " and marked as noise" if noise else ""
        console.print(f"alert {alert.id} acknowledged by {by}{marked}", markup=False)


@app.command("resolve")
def resolve(
    alert_id: int,
    by: Annotated[str, typer.Option("--by", help="Who is resolving.")] = "operator",
    note: Annotated[str | None, typer.Option(help="A note for the timeline.")] = None,
    config: ConfigOption = None,
) -> None:
    """Resolve an alert by hand. If its condition still holds, the next evaluation opens a
    new alert."""
    if (server := remote.server()) is not None:
        server.call("POST", f"/api/v1/alerts/{alert_id}/resolve", body={"by": by, "note": note})
        console.print(f"alert {alert_id} resolved by {by}", markup=False)
        return
    from tocsin import actions
    from tocsin.pipeline import Pipeline

    loaded, cfg = _config(config)
    with store(loaded) as factory, transaction(factory) as session:
        alert, _ = actions.alerts.resolve(session, Pipeline(cfg), alert_id, by, clock.now(), note)
        console.print(f"alert {alert.id} resolved by {by}", markup=False)
