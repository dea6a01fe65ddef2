"""`tocsin known-issue add|list|expire`: suppress and count a known issue."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

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
    ForOption,
    UntilOption,
    columns,
    duration_of,
    end,
    instant,
    listing,
)

if TYPE_CHECKING:
    from tocsin.noise.models import KnownIssue

app = typer.Typer(no_args_is_help=True, help="Suppress and count a known issue.")
ISSUE_COLUMNS = ("id", "pattern", "reason", "expires_at", "status", "origin", "suppressed")


@app.command("add")
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
        expires_at = instant(until, "--until")
    else:
        expires_at = now + (duration_of(for_, "--for") if for_ else KNOWN_ISSUE_SPAN)
    with store(store_url(config)) as factory, transaction(factory) as session:
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
    return columns(row, ISSUE_COLUMNS, pattern="; ".join(pattern))


@app.command("list")
def known_issue_list(
    all_: AllOption = False, json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Known issues and how many alerts each suppressed."""
    from tocsin.noise import known_issues

    listing(
        config,
        lambda session, now: [
            _issue_row(i, now)
            for i in known_issues.list_known_issues(session, now, include_expired=all_)
        ],
        ISSUE_COLUMNS,
        json,
    )


@app.command("expire")
def known_issue_expire(issue_id: str, config: ConfigOption = None) -> None:
    """Stop suppressing now; matching alerts that still fire are notified."""
    from tocsin.noise import known_issues

    end(config, known_issues.expire_known_issue, issue_id, f"known issue {issue_id} expired")
