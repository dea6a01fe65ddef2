"""`tocsin oncall who|list|ical|override|overrides`: schedules from the file, overrides stored.

Times (`--at`, `--start`, `--end`) are `now`, `now+2h`, `now-1d`, or ISO 8601; an ISO time
without an offset is read in the schedule's zone (UTC when no schedule is named).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

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
    store_url,
    transaction,
)

if TYPE_CHECKING:
    from tocsin.config import TocsinConfig
    from tocsin.oncall.models import OncallOverride
    from tocsin.oncall.rotation import Shift

app = typer.Typer(no_args_is_help=True, help="Who is on call, shifts, overrides, calendars.")

ScheduleArgument = Annotated[
    str | None, typer.Argument(help="A schedule (all schedules when left out).")
]
_RELATIVE = re.compile(r"^now\s*(?:([+-])\s*(\S+))?$")


def parse_time(text: str, now: datetime, zone: str = "UTC") -> datetime:
    """`now`, `now±DURATION` or ISO 8601 as aware UTC; naive ISO is read in `zone`."""
    from tocsin.config import parse_duration

    value = text.strip()
    if match := _RELATIVE.match(value):
        if not match.group(1):
            return now
        try:
            delta = parse_duration(match.group(2))
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        return now + delta if match.group(1) == "+" else now - delta
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not 'now', 'now+2h' or an ISO time like 2026-11-20T09:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(UTC)


def _local(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def _names(config: TocsinConfig, schedule: str | None) -> list[str]:
    if schedule is None:
        return sorted(config.schedules)
    if schedule not in config.schedules:
        known = ", ".join(sorted(config.schedules)) or "none are defined"
        fail(f"schedule {schedule!r} does not exist (known: {known})")
    return [schedule]


def _shift(config: TocsinConfig, shift: Shift | None) -> dict[str, Any] | None:
    if shift is None:
        return None
    user = config.users.get(shift.user) if shift.user else None
    return {
        "user": shift.user,
        "name": (user.name or shift.user) if user else None,
        "start": shift.start,
        "end": shift.end,
        "source": shift.source or None,
    }


def _person(row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    return row["name"] or "[bold red]nobody[/]"


@app.command("who")
def who(
    schedule: ScheduleArgument = None,
    at: Annotated[
        str,
        typer.Option(help="now, now+8h, or ISO (no offset: the schedule's zone, else UTC)."),
    ] = "now",
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Who is on call (primary and backup) now or at --at."""
    from tocsin.oncall import service

    loaded = load_config(config)
    cfg = loaded.config
    names = _names(cfg, schedule)
    rows: list[dict[str, Any]] = []
    with store(loaded) as factory, transaction(factory) as session:
        for name in names:
            zone = cfg.schedules[name].timezone
            when = parse_time(at, clock.now(), zone if schedule else "UTC")
            found = service.on_call(session, cfg, name, when)
            rows.append(
                {
                    "schedule": name,
                    "at": when,
                    "timezone": zone,
                    "primary": _shift(cfg, found.primary),
                    "backup_schedule": found.backup_schedule,
                    "backup": _shift(cfg, found.backup),
                }
            )
    if json:
        print_json(rows)
        return
    table = Table("schedule", "on call", "until", "from", "backup")
    for row in rows:
        primary = row["primary"]
        table.add_row(
            row["schedule"],
            _person(primary),
            _local(primary["end"], row["timezone"]),
            primary["source"] or "",
            _person(row["backup"]),
        )
    console.print(table)


@app.command("list")
def list_shifts(
    schedule: ScheduleArgument = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="How far ahead.")] = 14,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """The shifts from now on, gaps included, in each schedule's zone."""
    from tocsin.oncall import service

    loaded = load_config(config)
    cfg = loaded.config
    now = clock.now()
    rows: list[dict[str, Any]] = []
    with store(loaded) as factory, transaction(factory) as session:
        for name in _names(cfg, schedule):
            for shift in service.shifts(session, cfg, name, now, now + timedelta(days=days)):
                rows.append({"schedule": name, **(_shift(cfg, shift) or {})})
    if json:
        print_json(rows)
        return
    table = Table("schedule", "start", "end", "on call", "from")
    for row in rows:
        zone = cfg.schedules[row["schedule"]].timezone
        table.add_row(
            row["schedule"],
            _local(row["start"], zone),
            _local(row["end"], zone),
            _person(row),
            row["source"] or "",
        )
    console.print(table)


@app.command("ical")
def export_ical(
    schedule: Annotated[str, typer.Argument(help="The schedule to export.")],
    days: Annotated[int, typer.Option(min=1, max=366, help="How far ahead.")] = 90,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """The schedule's shifts as an iCalendar feed; UIDs stay the same across exports."""
    from tocsin.oncall import ical, service

    loaded = load_config(config)
    cfg = loaded.config
    _names(cfg, schedule)
    now = clock.now()
    with store(loaded) as factory, transaction(factory) as session:
        found = service.shifts(session, cfg, schedule, now, now + timedelta(days=days))

    def display(user: str) -> str:
        spec = cfg.users.get(user)
        return (spec.name if spec else None) or user

    text = ical.calendar(schedule, found, display, now)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    events = sum(1 for s in found if s.user)
    console.print(f"{events} shifts of {schedule} written to {output}", markup=False)


@app.command("override")
def override(
    schedule: Annotated[str | None, typer.Argument(help="The schedule to cover.")] = None,
    user: Annotated[
        str | None, typer.Option(help="Who covers (default: --by, i.e. take it yourself).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who is making the change.")] = None,
    start: Annotated[str, typer.Option(help="From: now, now+1h or ISO time.")] = "now",
    end: Annotated[
        str | None, typer.Option(help="Until (default: the end of the shift at --start).")
    ] = None,
    for_: Annotated[str | None, typer.Option("--for", help="Or a length: 8h, 2d.")] = None,
    reason: Annotated[str, typer.Option(help="Why, for the record.")] = "",
    delete: Annotated[int | None, typer.Option("--delete", help="Remove override ID.")] = None,
    config: ConfigOption = None,
) -> None:
    """Hand a shift to someone (--user ben --by ana) or take one (--by ben); or --delete ID."""
    from tocsin.config import parse_duration
    from tocsin.oncall import service

    if delete is not None:
        with store(store_url(config)) as factory, transaction(factory) as session:
            service.delete_override(session, delete)
        console.print(f"override {delete} deleted", markup=False)
        return
    if schedule is None or by is None:
        fail("give a SCHEDULE and --by (or --delete ID)")
    if end is not None and for_ is not None:
        fail("give --end or --for, not both")
    loaded = load_config(config)
    cfg = loaded.config
    _names(cfg, schedule)
    zone = cfg.schedules[schedule].timezone
    now = clock.now()
    begin = parse_time(start, now, zone)
    with store(loaded) as factory, transaction(factory) as session:
        if end is not None:
            until = parse_time(end, now, zone)
        elif for_ is not None:
            try:
                until = begin + parse_duration(for_)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--for") from None
        else:
            current = service.on_call(session, cfg, schedule, begin).primary
            if current.user is None:
                fail("nobody is on call then, so there is no shift to cover: give --end or --for")
            until = current.end
        made = service.create_override(
            session,
            cfg,
            schedule=schedule,
            user=user or by,
            start=begin,
            end=until,
            by=by,
            now=now,
            reason=reason,
        )
        console.print(
            f"override {made.id}: {made.username} covers {schedule} from "
            f"{_local(made.start_at, zone)} to {_local(made.end_at, zone)}",
            markup=False,
        )


def _override_dict(row: OncallOverride) -> dict[str, Any]:
    return {
        "id": row.id,
        "schedule": row.schedule,
        "user": row.username,
        "start": row.start_at,
        "end": row.end_at,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "reason": row.reason,
    }


@app.command("overrides")
def overrides(
    schedule: ScheduleArgument = None,
    all_: Annotated[bool, typer.Option("--all", help="Include those already over.")] = False,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Overrides not yet over (or --all), by start time."""
    from tocsin.oncall import service

    with store(store_url(config)) as factory, transaction(factory) as session:
        rows = [
            _override_dict(r)
            for r in service.list_overrides(
                session, schedule=schedule, ending_after=None if all_ else clock.now()
            )
        ]
    if json:
        print_json(rows)
        return
    table = Table("id", "schedule", "user", "start (UTC)", "end (UTC)", "by", "reason")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["schedule"],
            r["user"],
            f"{r['start']:%Y-%m-%d %H:%M}",
            f"{r['end']:%Y-%m-%d %H:%M}",
            r["created_by"],
            r["reason"],
        )
    console.print(table)
