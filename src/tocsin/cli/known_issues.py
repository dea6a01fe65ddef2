"""`tocsin known-issue add|list|expire`: suppress and count a known issue."""

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
    ForOption,
    UntilOption,
    columns,
    duration_of,
    end,
    instant,
    listing,
)

if TYPE_CHECKING:
    pass

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
    if (server := remote.server()) is not None:
        body = {
            "id": issue_id,
            "reason": reason,
            "matchers": match or [],
            "message_contains": contains,
            "message_regex": regex,
            "expires_at": expires_at.isoformat(),
            "created_by": by,
        }
        made = server.call("POST", "/api/v1/known-issues", body=body)
        console.print(
            f"known issue {made['id']} until {made['expires_at'].isoformat()}", markup=False
        )
        return
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


def _issue_row(row: dict[str, Any]) -> dict[str, Any]:
    """A known issue as the API answers it (`noise.schemas.known_issue_out`), in the
    table's columns."""
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
    """Known issues and how many alerts each suppressed; `--json` as the API answers."""
    from tocsin.noise import known_issues
    from tocsin.noise.schemas import known_issue_out

    listing(
        config,
        lambda session, now: [
            known_issue_out(i, now)
            for i in known_issues.list_known_issues(session, now, include_expired=all_)
        ],
        ISSUE_COLUMNS,
        json,
        api=f"/api/v1/known-issues?all={'true' if all_ else 'false'}",
        shape=_issue_row,
    )


@app.command("expire")
def known_issue_expire(issue_id: str, config: ConfigOption = None) -> None:
    """Stop suppressing now; matching alerts that still fire are notified."""
    from tocsin.noise import known_issues

    path = f"/api/v1/known-issues/{remote.segment(issue_id)}"
    done = f"known issue {issue_id} expired"
    end(config, known_issues.expire_known_issue, issue_id, done, ("DELETE", path))
