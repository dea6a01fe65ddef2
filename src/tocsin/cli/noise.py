"""`tocsin silence|maintenance|known-issue …` and `tocsin stats noise`: the run-time side of
noise control. Every command validates all its input before it writes anything."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tocsin.noise.models import KnownIssue, MaintenanceWindow, Silence

silence_app = typer.Typer(no_args_is_help=True, help="Mute alerts by label matchers.")
maintenance_app = typer.Typer(no_args_is_help=True, help="Maintenance windows per service.")
known_issue_app = typer.Typer(no_args_is_help=True, help="Suppress and count a known issue.")
stats_app = typer.Typer(no_args_is_help=True, help="Figures about Tocsin's own alerting.")

AllOption = Annotated[bool, typer.Option("--all", help="Include expired ones.")]
ByOption = Annotated[str, typer.Option("--by", help="Who is creating it.")]
ForOption = Annotated[str | None, typer.Option("--for", help="How long, like 2h or 30m.")]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="When it ends, like 2026-11-22T04:00Z.")
]
StartOption = Annotated[str | None, typer.Option("--start", help="When it starts (default: now).")]
EveryOption = Annotated[
    str | None, typer.Option("--every", help="Recur on this cron schedule, like '0 2 * * sun'.")
]
DurationOption = Annotated[
    str | None, typer.Option("--duration", help="How long each occurrence lasts, like 2h.")
]
ZoneOption = Annotated[str, typer.Option("--timezone", help="The zone of --every.")]
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
)


def _instant(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option} {text!r} is not a time like 2026-11-22T04:00Z")
    if value.tzinfo is None:
        fail(f"{option} {text!r} has no time zone: add Z (UTC) or an offset like +01:00")
    return value


def _duration(text: str, option: str) -> timedelta:
    from tocsin.config import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        fail(f"{option}: {exc}")
    if value <= timedelta(0):
        fail(f"{option} must be longer than zero")
    return value


def _span(
    now: datetime,
    start: str | None,
    for_: str | None,
    until: str | None,
    recurring: bool,
) -> tuple[datetime, datetime]:
    """The start and end from --start and one of --for / --until (optional if recurring)."""
    from tocsin.errors import Invalid
    from tocsin.noise.common import span

    if (for_ is None) == (until is None) and not (recurring and for_ is None and until is None):
        fail("give one of --for (like 2h) or --until (like 2026-11-22T04:00Z)")
    try:
        return span(
            now,
            _instant(start, "--start") if start else None,
            _instant(until, "--until") if until is not None else None,
            _duration(for_, "--for") if for_ is not None else None,
        )
    except Invalid as exc:
        fail(str(exc))


def _recurrence(every: str | None, duration: str | None) -> timedelta | None:
    if (every is None) != (duration is None):
        fail("--every and --duration go together")
    return _duration(duration, "--duration") if duration is not None else None


def _columns(row: dict[str, Any], columns: Sequence[str], **shown: Any) -> dict[str, Any]:
    """A row as `/api/v1` answers it (`tocsin.noise.schemas`), laid out in the CLI's columns,
    the values in `shown` written as the CLI shows them."""
    return {c: shown[c] if c in shown else row[c] for c in columns}


def _occurrence(row: dict[str, Any]) -> str:
    if row["every"] is None:
        return ""
    hours = timedelta(seconds=row["duration_seconds"] or 0)
    return f"every '{row['every']}' for {hours} ({row['timezone']})"


def _end(
    config: Path | None, end: Callable[[Session, str, datetime], object], row_id: str, done: str
) -> None:
    with store(optional_config(config)) as factory, transaction(factory) as session:
        end(session, row_id, clock.now())
        console.print(done, markup=False)


def _listing(
    config: Path | None,
    rows_of: Callable[[Session, datetime], list[dict[str, Any]]],
    columns: Sequence[str],
    json: bool,
) -> None:
    with store(optional_config(config)) as factory, transaction(factory) as session:
        rows = rows_of(session, clock.now())
    _print_rows(rows, columns, json)


def _print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], json: bool) -> None:
    if json:
        print_json(list(rows))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(
            *(when(v) if isinstance(v, datetime) else str(v) for v in (row[c] for c in columns))
        )
    console.print(table)


ISSUE_COLUMNS = ("id", "pattern", "reason", "expires_at", "status", "origin", "suppressed")


# --- silences ----------------------------------------------------------------------------------


@silence_app.command("add")
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
    starts_at, ends_at = _span(now, start, for_, until, every is not None)
    length = _recurrence(every, duration)
    with store(optional_config(config)) as factory, transaction(factory) as session:
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
    return _columns(
        row,
        SILENCE_COLUMNS,
        matchers=", ".join(row["matchers"]),
        recurs=_occurrence(row),
        muted=row["suppressed"],
    )


@silence_app.command("list")
def silence_list(
    all_: AllOption = False, json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Silences in force or scheduled (with --all, expired ones too)."""
    from tocsin.noise import silences

    _listing(
        config,
        lambda session, now: [
            _silence_row(s, now) for s in silences.list_silences(session, now, include_expired=all_)
        ],
        SILENCE_COLUMNS,
        json,
    )


@silence_app.command("expire")
def silence_expire(silence_id: str, config: ConfigOption = None) -> None:
    """End a silence now; alerts it muted that still fire are notified."""
    from tocsin.noise import silences

    _end(config, silences.expire_silence, silence_id, f"silence {silence_id} expired")


# --- maintenance ---------------------------------------------------------------------------------


@maintenance_app.command("add")
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
    config: ConfigOption = None,
) -> None:
    """Schedule a window: alerts of these services are recorded, not notified."""
    from tocsin.noise import maintenance

    now = clock.now()
    starts_at, ends_at = _span(now, start, for_, end, every is not None)
    length = _recurrence(every, duration)
    with store(optional_config(config)) as factory, transaction(factory) as session:
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
        )
        console.print(window.id, markup=False)


def _window_row(window: MaintenanceWindow, now: datetime) -> dict[str, Any]:
    from tocsin.noise.schemas import window_out

    row = window_out(window, now)
    return _columns(
        row,
        (*WINDOW_COLUMNS[:7], "next_start", *WINDOW_COLUMNS[7:]),  # --json shows next_start
        services=", ".join(row["services"]),
        recurs=_occurrence(row),
        muted=row["suppressed"],
    )


@maintenance_app.command("list")
def maintenance_list(
    all_: AllOption = False, json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Windows in force or scheduled (with --all, ended ones too)."""
    from tocsin.noise import maintenance

    _listing(
        config,
        lambda session, now: [
            _window_row(w, now) for w in maintenance.list_windows(session, now, include_ended=all_)
        ],
        WINDOW_COLUMNS,
        json,
    )


@maintenance_app.command("end")
def maintenance_end(window_id: str, config: ConfigOption = None) -> None:
    """End a window now (or cancel one scheduled ahead)."""
    from tocsin.noise import maintenance

    _end(config, maintenance.end_window, window_id, f"maintenance window {window_id} ended")


# --- known issues --------------------------------------------------------------------------------


@known_issue_app.command("add")
def known_issue_add(
    issue_id: Annotated[str, typer.Argument(help="An id like PRINT-2025-11-16-001.")],
    reason: Annotated[str, typer.Option("--reason")],
    match: Annotated[
        list[str] | None, typer.Option("--match", help="A label matcher; repeatable.")
    ] = None,
    contains: Annotated[
        str | None, typer.Option("--contains", help="Text in the title or message.")
    ] = None,
    regex: Annotated[str | None, typer.Option("--regex", help="A regex on title/message.")] = None,
    for_: ForOption = None,
    until: UntilOption = None,
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Suppress alerts matching a known issue until it expires (default: one hour)."""
    from tocsin.noise import known_issues
    from tocsin.noise.common import KNOWN_ISSUE_SPAN

    now = clock.now()
    if until:
        expires_at = _instant(until, "--until")
    else:
        expires_at = now + (_duration(for_, "--for") if for_ else KNOWN_ISSUE_SPAN)
    with store(optional_config(config)) as factory, transaction(factory) as session:
        issue = known_issues.create_known_issue(
            session,
            issue_id,
            reason,
            expires_at,
            now=now,
            matchers=match or [],
            message_contains=contains,
            message_regex=regex,
            created_by=by,
        )
        console.print(f"known issue {issue.id} until {issue.expires_at.isoformat()}", markup=False)


def _issue_row(issue: KnownIssue, now: datetime) -> dict[str, Any]:
    from tocsin.noise.schemas import known_issue_out

    row = known_issue_out(issue, now)
    pattern = [*row["matchers"]]
    if row["message_contains"] is not None:
        pattern.append(f"contains {row['message_contains']!r}")
    if row["message_regex"] is not None:
        pattern.append(f"regex {row['message_regex']!r}")
    return _columns(row, ISSUE_COLUMNS, pattern="; ".join(pattern))


@known_issue_app.command("list")
def known_issue_list(
    all_: AllOption = False, json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Known issues and how many alerts each suppressed."""
    from tocsin.noise import known_issues

    _listing(
        config,
        lambda session, now: [
            _issue_row(i, now)
            for i in known_issues.list_known_issues(session, now, include_expired=all_)
        ],
        ISSUE_COLUMNS,
        json,
    )


@known_issue_app.command("expire")
def known_issue_expire(issue_id: str, config: ConfigOption = None) -> None:
    """Stop suppressing now; matching alerts that still fire are notified."""
    from tocsin.noise import known_issues

    _end(config, known_issues.expire_known_issue, issue_id, f"known issue {issue_id} expired")


# --- stats ---------------------------------------------------------------------------------------


@stats_app.command("noise")
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

    span, window = _duration(since, "--since"), _duration(quick, "--quick")
    now = clock.now()
    with store(optional_config(config)) as factory, transaction(factory) as session:
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
