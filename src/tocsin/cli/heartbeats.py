"""`tocsin heartbeat list|show`: the ping URLs cron jobs call, and what they last said.

A heartbeat's row (and so its generated key) is written when `tocsin run` starts or reloads;
one only in the configuration so far is listed as `not started`, with its URL when the
configuration fixes the key."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    fail,
    optional_config,
    print_json,
    store,
    transaction,
    when,
)

if TYPE_CHECKING:
    from datetime import datetime

    from tocsin.config import HeartbeatConfig, LoadedConfig, TocsinConfig
    from tocsin.heartbeats.models import Heartbeat

app = typer.Typer(no_args_is_help=True, help="Ping URLs for cron jobs, and their pings.")
NOT_STARTED = "not started"  # configured, but no `tocsin run` has written its row yet


def _config(loaded: LoadedConfig | None) -> TocsinConfig:
    from tocsin.config import TocsinConfig

    return loaded.config if loaded else TocsinConfig()


def _row(cfg: TocsinConfig, name: str, row: Heartbeat | None, now: datetime) -> dict[str, Any]:
    from tocsin.heartbeats.schedule import cadence, status
    from tocsin.heartbeats.service import ping_url

    beat = next((b for b in cfg.heartbeats if b.name == name), None)
    key = row.uuid if row is not None else _configured_key(beat)
    return {
        "name": name,
        "status": status(row.status, row.next_due_at, now) if row else NOT_STARTED,
        "ping_url": ping_url(cfg.public_url, key) if key else None,
        "schedule": cadence(beat) if beat else "not in the configuration",
        "last_ping_at": row.last_ping_at if row else None,
        "next_due_at": row.next_due_at if row else None,
        "alert_at": row.alert_at if row else None,
        "last_duration_s": row.last_duration_s if row else None,
        "configured": beat is not None,
    }


def _configured_key(beat: HeartbeatConfig | None) -> str | None:
    return str(uuid.UUID(beat.uuid)) if beat is not None and beat.uuid else None


@app.command("list")
def list_heartbeats(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Every heartbeat with its ping URL, state, last ping and next deadline."""
    from tocsin.heartbeats import service as heartbeats

    loaded = optional_config(config)
    cfg = _config(loaded)
    now = clock.now()
    with store(loaded) as factory, transaction(factory) as session:
        stored = {h.name: h for h in heartbeats.list_(session)}
    names = sorted({*stored, *(b.name for b in cfg.heartbeats)})
    rows = [_row(cfg, name, stored.get(name), now) for name in names]
    if json:
        print_json(rows)
        return
    table = Table("heartbeat", "status", "expected", "last ping (UTC)", "due (UTC)")
    for r in rows:
        table.add_row(
            r["name"],
            r["status"],
            r["schedule"],
            when(r["last_ping_at"]),
            when(r["next_due_at"]),
        )
    console.print(table)
    # Plain lines, not table cells: a URL a table wraps or cuts cannot be pasted into a crontab.
    width = max(len(r["name"]) for r in rows) if rows else 0
    for r in rows:
        url = r["ping_url"] or "none yet: `tocsin run` creates it"
        console.print(f"{r['name']:<{width}}  {url}", markup=False)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The heartbeat's name.")],
    pings: Annotated[int, typer.Option(min=0, max=1000, help="How many recent pings.")] = 10,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """One heartbeat: its URLs (success, start, fail, exit code), a cron line, recent pings."""
    from tocsin.heartbeats import service as heartbeats

    loaded = optional_config(config)
    cfg = _config(loaded)
    now = clock.now()
    with store(loaded) as factory, transaction(factory) as session:
        row = next((h for h in heartbeats.list_(session) if h.name == name), None)
        recent = [
            {
                "at": p.at,
                "kind": p.kind,
                "exit_code": p.exit_code,
                "duration_s": p.duration_s,
                "method": p.method,
                "remote": p.remote,
                "body": p.body,
            }
            for p in (heartbeats.recent_pings(session, row.id, pings) if row and pings else [])
        ]
    if row is None and all(b.name != name for b in cfg.heartbeats):
        known = ", ".join(sorted(b.name for b in cfg.heartbeats)) or "none are configured"
        fail(f"no heartbeat named {name!r} (known: {known})")
    data = {**_row(cfg, name, row, now), "pings": recent}
    if json:
        print_json(data)
        return
    _print_heartbeat(data)


def _print_heartbeat(data: dict[str, Any]) -> None:
    console.print(f"[bold]{data['name']}[/]  {data['status']}  ({data['schedule']})")
    url = data["ping_url"]
    if url is None:
        console.print("ping URL: none yet; `tocsin run` creates it")
    else:
        console.print(f"ping URL: {url}", markup=False)
        console.print(
            "  add /start when the job starts, /fail when it fails, /$? for its exit code",
            markup=False,
        )
        console.print(
            f"  in a crontab: your-job && curl -fsS -m 10 --retry 5 -o /dev/null {url}",
            markup=False,
        )
    console.print(
        f"last ping: {when(data['last_ping_at'])}   due: {when(data['next_due_at'])}   "
        f"alert at: {when(data['alert_at'])} (UTC)"
    )
    if not data["pings"]:
        return
    table = Table("at (UTC)", "kind", "exit", "took", "from", "body", title="recent pings")
    for p in data["pings"]:
        last_line = p["body"].strip().splitlines()[-1] if p["body"].strip() else ""
        table.add_row(
            when(p["at"]),
            p["kind"],
            "" if p["exit_code"] is None else str(p["exit_code"]),
            "" if p["duration_s"] is None else f"{p['duration_s']:.1f} s",
            f"{p['method']} {p['remote'] or ''}".strip(),
            Text(last_line[:80]),
        )
    console.print(table)
