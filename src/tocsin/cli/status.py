"""`tocsin status show|export`: the public status page from the terminal, and as static files
for a web server or a pages repository (so the page survives the host it reports on)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    fail,
    optional_config,
    print_json,
    store,
    transaction,
)

if TYPE_CHECKING:
    from tocsin.config.model import LoadedConfig, TocsinConfig

app = typer.Typer(
    no_args_is_help=True,
    help="The public status page: show it, export it, its subscribers.",
)


@app.command("show")
def show(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Each component's status and the overall status, as the page shows them now."""
    from tocsin.clock import SystemClock
    from tocsin.statuspage.schemas import Shapes
    from tocsin.statuspage.service import snapshot

    loaded = optional_config(config)
    settings = _settings(loaded)
    now = SystemClock().now()
    with store(loaded) as factory, transaction(factory) as session:
        snap = snapshot(session, settings.status, now)
    if json:
        print_json(Shapes(snap, _url(settings.public_url), now).summary())
        return
    console.print(f"[bold]{snap.title}[/bold]: {snap.description}", highlight=False)
    for view in snap.components:
        group = f"{view.config.group} / " if view.config.group else ""
        console.print(f"  {group}{view.config.name}: {view.status}", highlight=False)
    for incident in snap.incidents:
        latest = f" — {incident.updates[0].body}" if incident.updates else ""
        console.print(
            f"incident {incident.id} ({incident.impact}): {incident.name}: {incident.status}"
            f"{latest}",
            highlight=False,
            markup=False,
        )
    for window in snap.maintenances:
        state = "in progress" if window.active else f"from {window.starts_at:%Y-%m-%d %H:%M} UTC"
        console.print(f"maintenance: {window.title} ({state})", highlight=False, markup=False)


@app.command("export")
def export(
    folder: Annotated[Path, typer.Argument(help="where the files go (made if missing)")],
    config: ConfigOption = None,
) -> None:
    """Write the whole page as static files: index.html, its JSON (api/v2/), the Atom feed,
    uptime's inputs and the badges. The page says when it was exported and, opened more than
    ten minutes later, shows a banner saying it may be stale."""
    from tocsin.clock import SystemClock
    from tocsin.statuspage.export import files, write

    loaded = optional_config(config)
    settings = _settings(loaded)
    now = SystemClock().now()
    with store(loaded) as factory, transaction(factory) as session:
        contents = files(session, settings.status, _url(settings.public_url), now, now)
    written = write(folder, contents)
    console.print(f"wrote {len(written)} files to {folder} (open {folder / 'index.html'})")


@app.command("subscribers")
def subscribers_list(config: ConfigOption = None, json: JsonOption = False) -> None:
    """The page's subscribers: kind, address (a webhook's URL masked), components, state
    (unconfirmed, confirmed, unsubscribed) and deliveries by state."""
    from tocsin.statuspage.subscribers import listed

    with store(optional_config(config)) as factory, transaction(factory) as session:
        rows = listed(session)
    if json:
        print_json(rows)
        return
    if not rows:
        console.print("no subscribers")
    for r in rows:
        chosen = ", ".join(r["components"]) or "all components"
        sent = ", ".join(f"{k} {v}" for k, v in sorted(r["deliveries"].items())) or "none"
        console.print(
            f"{r['id']}  {r['kind']}  {r['address']}  {r['state']}  ({chosen}; deliveries: {sent})",
            highlight=False,
            markup=False,
        )


@app.command("remove-subscriber")
def remove_subscriber(
    subscriber_id: Annotated[str, typer.Argument(help="the id `tocsin status subscribers` shows")],
    config: ConfigOption = None,
) -> None:
    """Delete a subscriber and what was queued for it (its address is forgotten)."""
    from tocsin.statuspage.subscribers import remove

    with store(optional_config(config)) as factory, transaction(factory) as session:
        found = remove(session, subscriber_id)
    if not found:
        fail(f"no subscriber {subscriber_id!r} (see `tocsin status subscribers`)")
    console.print(f"removed subscriber {subscriber_id}")


def _settings(loaded: LoadedConfig | None) -> TocsinConfig:
    """The configuration, or the defaults (no components) when there is no file."""
    from tocsin.config.model import TocsinConfig

    return loaded.config if loaded else TocsinConfig()


def _url(public_url: str) -> str:
    return public_url.rstrip("/") + "/status"
