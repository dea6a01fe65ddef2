"""`tocsin incident open|list|show|update|assign|link|note|resolve|close|merge`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

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
from tocsin.cli.noise import instant

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tocsin.pipeline import Pipeline

app = typer.Typer(
    no_args_is_help=True,
    help="Declare incidents, command them, post status updates, link alerts.",
)
T = TypeVar("T")
COLOURS = {"SEV-1": "bold red", "SEV-2": "red", "SEV-3": "yellow", "SEV-4": "blue"}
ByOption = Annotated[str, typer.Option("--by", help="Who is doing it (for the timeline).")]


@contextmanager
def _session(config: Any) -> Iterator[tuple[Session, Pipeline]]:
    from tocsin.config import TocsinConfig
    from tocsin.pipeline import Pipeline

    loaded = optional_config(config)
    pipeline = Pipeline(loaded.config if loaded else TocsinConfig())
    with store(loaded) as factory, transaction(factory) as session:
        yield session, pipeline


def _run(config: Any, work: Callable[[Session, Pipeline], T]) -> T:
    with _session(config) as (session, pipeline):
        return work(session, pipeline)


@app.command("open")
def open_(
    title: Annotated[str, typer.Option("--title", help="What is wrong, in a line.")],
    severity: Annotated[str, typer.Option("--severity", help="SEV-1 … SEV-4.")] = "SEV-2",
    service: Annotated[
        list[str] | None, typer.Option("--service", help="An affected service (repeatable).")
    ] = None,
    commander: Annotated[
        str | None, typer.Option("--commander", help="A configured user who takes command.")
    ] = None,
    alert: Annotated[
        list[int] | None, typer.Option("--alert", help="An alert to link (repeatable).")
    ] = None,
    declared_at: Annotated[
        str | None,
        typer.Option("--declared-at", help="When it began, for a retroactive incident."),
    ] = None,
    impact: Annotated[str, typer.Option("--impact", help="What customers see.")] = "",
    public: Annotated[bool, typer.Option("--public", help="Show it on the status page.")] = False,
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Declare an incident; prints its id."""
    from tocsin import actions

    new = actions.incidents.NewIncident(
        title=title,
        severity=severity,
        services=service or [],
        commander=commander,
        declared_at=instant(declared_at, "--declared-at") if declared_at else None,
        customer_impact=impact,
        public=public,
    )
    found = _run(
        config,
        lambda s, p: (
            actions.incidents.declare(s, p, new, by, clock.now(), alert_ids=alert or []).id
        ),
    )
    console.print(found, markup=False)


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="open, or one of investigating … closed.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Incidents, newest first."""
    from tocsin.incidents import service
    from tocsin.incidents.schemas import incident_summary

    rows = _run(
        config,
        lambda s, _p: [incident_summary(i) for i in service.list_(s, status=status, limit=limit)],
    )
    if json:
        print_json(rows)
        return
    table = Table("id", "severity", "status", "title", "commander", "declared (UTC)", "next update")
    for i in rows:
        table.add_row(
            i["id"],
            f"[{COLOURS.get(i['severity'], '')}]{i['severity']}[/]",
            i["status"],
            i["title"],
            i["commander_label"],
            when(i["declared_at"]),
            when(i["next_update_due_at"]),
        )
    console.print(table)


@app.command("show")
def show(incident_id: str, config: ConfigOption = None, json: JsonOption = False) -> None:
    """One incident: its roles, alerts, updates and timeline."""
    from tocsin.incidents.schemas import incident_detail

    detail = _run(config, lambda s, _p: incident_detail(s, incident_id))
    if json:
        print_json(detail)
        return
    sev = detail["severity"]
    console.print(
        f"[bold]{detail['id']} {detail['title']}[/]  [{COLOURS.get(sev, '')}]{sev}[/] "
        f"{detail['status']}"
    )
    roles = (
        f"commander: {detail['commander_label']}   comms lead: {detail['comms_lead'] or '—'}"
        f"   scribe: {detail['scribe'] or '—'}"
    )
    console.print(roles, markup=False)
    console.print(
        f"declared {when(detail['declared_at'])} by {detail['declared_by']}   "
        f"next update due {when(detail['next_update_due_at'])}",
        markup=False,
    )
    if detail["customer_impact"]:
        console.print(f"customer impact: {detail['customer_impact']}", markup=False)
    for a in detail["alerts"]:
        console.print(f"alert #{a['id']} {a['severity']} {a['state']}: {a['title']}", markup=False)
    table = Table("at (UTC)", "event", "by", "note", title="timeline")
    for e in detail["timeline"]:
        table.add_row(when(e["at"]), e["kind"], e["actor"] or "", e["note"] or "")
    console.print(table)


@app.command("update")
def update(
    incident_id: str,
    message: Annotated[str, typer.Option("--message", help="What is happening now.")],
    status: Annotated[str | None, typer.Option("--status", help="A new status.")] = None,
    impact: Annotated[str | None, typer.Option("--impact", help="Customer impact.")] = None,
    eta: Annotated[str | None, typer.Option("--eta", help="Expected resolution.")] = None,
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Post a status update to the incident's channels (resets the update clock)."""
    from tocsin import actions

    new = actions.incidents.NewUpdate(
        message=message, status=status, customer_impact=impact, eta=eta
    )
    _run(
        config, lambda s, p: actions.incidents.post_update(s, p, incident_id, new, by, clock.now())
    )
    console.print(f"update posted on {incident_id}", markup=False)


@app.command("assign")
def assign(
    incident_id: str,
    role: Annotated[str, typer.Option("--role", help="commander, comms_lead or scribe.")],
    user: Annotated[str, typer.Option("--user", help="A configured user.")],
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Give a role to a user (a handover if someone had it); they get its instructions."""
    from tocsin.incidents import service

    _run(config, lambda s, p: service.assign(s, p, incident_id, role, user, by, clock.now()))
    console.print(f"{user} is now {role} of {incident_id}", markup=False)


@app.command("link")
def link(
    incident_id: str,
    alert: Annotated[int, typer.Option("--alert", help="The alert's id.")],
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Link an alert: its changes land on the incident's timeline."""
    from tocsin.incidents import links

    _run(config, lambda s, _p: links.link(s, incident_id, alert, by, clock.now()))
    console.print(f"alert {alert} linked to {incident_id}", markup=False)


@app.command("note")
def note(
    incident_id: str, text: str, by: ByOption = "operator", config: ConfigOption = None
) -> None:
    """Add a note to the timeline."""
    from tocsin.incidents import service

    _run(config, lambda s, _p: service.note(s, incident_id, text, by, clock.now()))
    console.print(f"noted on {incident_id}", markup=False)


def _move(incident_id: str, status: str, by: str, config: Any) -> None:
    from tocsin import actions

    _run(config, lambda s, p: actions.incidents.move(s, p, incident_id, status, by, clock.now()))
    console.print(f"{incident_id} is {status}", markup=False)


@app.command("status")
def status_(
    incident_id: str,
    status: Annotated[str, typer.Argument(help="identified, mitigating, resolved …")],
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Move the incident to another status (without posting an update)."""
    _move(incident_id, status, by, config)


@app.command("resolve")
def resolve(incident_id: str, by: ByOption = "operator", config: ConfigOption = None) -> None:
    """The incident is over (it may be reopened)."""
    _move(incident_id, "resolved", by, config)


@app.command("close")
def close(incident_id: str, by: ByOption = "operator", config: ConfigOption = None) -> None:
    """Close a resolved incident for good."""
    _move(incident_id, "closed", by, config)


@app.command("merge")
def merge(
    incident_id: str,
    into: Annotated[str, typer.Option("--into", help="The incident that goes on.")],
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Fold an incident into another: alerts move, both timelines stay."""
    from tocsin.incidents import links

    _run(config, lambda s, _p: links.merge(s, incident_id, into, by, clock.now()))
    console.print(f"{incident_id} merged into {into}", markup=False)


@app.command("postmortem")
def postmortem(
    incident_id: str,
    done: Annotated[bool, typer.Option("--done", help="Mark it reviewed and done.")] = False,
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Print the post-mortem draft (written when the incident resolved), or mark it done."""
    from tocsin.incidents import postmortem as postmortems
    from tocsin.incidents import service

    if done:
        _run(config, lambda s, _p: postmortems.mark_done(s, incident_id, by, clock.now()))
        console.print(f"the post-mortem of {incident_id} is done", markup=False)
        return
    text = _run(config, lambda s, _p: service.get(s, incident_id).postmortem)
    if text is None:
        fail(f"{incident_id} has no post-mortem yet: it is drafted when the incident resolves")
    console.print(text, markup=False)


@app.command("action")
def action(
    incident_id: str,
    text: str,
    owner: Annotated[str, typer.Option("--owner", help="A configured user.")],
    due: Annotated[str, typer.Option("--due", help="When, like 2026-11-30T17:00Z.")],
    verify_source: Annotated[
        str | None, typer.Option("--verify-source", help="A source whose check closes it.")
    ] = None,
    verify_query: Annotated[
        str | None, typer.Option("--verify-query", help="The check's SQL (SQL sources).")
    ] = None,
    verify_test: Annotated[
        str | None,
        typer.Option("--verify-test", help="Closes it when it holds for a row, like 'stuck == 0'."),
    ] = None,
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Add an action item (its owner is reminded once it is overdue); with --verify-source
    and --verify-test, a check that closes it once it passes."""
    from tocsin.incidents import followups
    from tocsin.incidents.verify import Verify

    if (verify_source is None) != (verify_test is None) or (
        verify_query is not None and verify_source is None
    ):
        fail("--verify-source and --verify-test go together (--verify-query with them)")
    check = (
        Verify(verify_source, verify_test, verify_query)
        if verify_source is not None and verify_test is not None
        else None
    )

    # The time is read once the store is open: a missing store is the first thing said.
    found = _run(
        config,
        lambda s, p: (
            followups.add_action(
                s, p, incident_id, text, owner, instant(due, "--due"), by, clock.now(), check
            ).id
        ),
    )
    console.print(f"action item {found} added to {incident_id}", markup=False)


@app.command("action-done")
def action_done(action_id: int, by: ByOption = "operator", config: ConfigOption = None) -> None:
    """Mark an action item done."""
    from tocsin.incidents import followups

    _run(config, lambda s, _p: followups.complete_action(s, action_id, by, clock.now()))
    console.print(f"action item {action_id} is done", markup=False)


@app.command("actions")
def actions_(
    open_only: Annotated[bool, typer.Option("--open", help="Only those not done.")] = False,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Action items across incidents, soonest due first."""
    from tocsin.incidents import followups
    from tocsin.incidents.schemas import action_out

    rows = _run(
        config,
        lambda s, _p: [action_out(a) for a in followups.list_actions(s, open_only=open_only)],
    )
    if json:
        print_json(rows)
        return
    table = Table("id", "incident", "owner", "due (UTC)", "done", "action")
    for a in rows:
        table.add_row(
            str(a["id"]),
            a["incident_id"],
            a["owner"],
            when(a["due_at"]),
            when(a["done_at"]),
            a["text"],
        )
    console.print(table)


@app.command("comms")
def comms(
    incident_id: str,
    template: Annotated[
        str, typer.Option("--template", help="data-recovery-complete, status-update, or yours.")
    ] = "status-update",
    config: ConfigOption = None,
) -> None:
    """Render a customer communication template with the incident's data (prints it)."""
    from tocsin.incidents import templates
    from tocsin.incidents.schemas import incident_detail

    text = _run(
        config,
        lambda s, p: templates.render(
            p.config.incidents, template, incident_detail(s, incident_id)
        ),
    )
    console.print(text, markup=False)
