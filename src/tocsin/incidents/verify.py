"""Action items that prove themselves: an action item may carry a check — a source of
`sources:`, its query (SQL; none for an HTTP source) and a `test` over each row the source
answers (Tocsin's expression language, as in checks' conditions) — which runs every
`incidents.verify_every` until the test holds for a row, and then closes the item ("done by
check") with the result on the incident's timeline.

Claimed like every due row: the worker reads due items (`verify_at`) with `claims.locking`
and moves each one's `verify_at` a period on by compare-and-set (`claims.take`), commits,
runs the check outside any transaction, then records the result; closing is a compare-and-set
on `done_at` too, so two instances never close one twice. An instance that dies mid-check
leaves the item due again one period later: a check that passes closes it then."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tocsin import claims
from tocsin.checks.sources import open_source
from tocsin.clock import Clock
from tocsin.config import TocsinConfig
from tocsin.db import session_scope
from tocsin.errors import Invalid, SourceError
from tocsin.expressions import ExpressionError, compile_expression, evaluate
from tocsin.incidents import timeline
from tocsin.incidents.models import IncidentAction

BATCH = 20
RESULT_MAX = 500
BY = "check"


@dataclass(frozen=True)
class Verify:
    """What an action item's check runs: `source`, its `query` (SQL sources), the `test`."""

    source: str
    test: str
    query: str | None = None

    def spec(self) -> dict[str, Any]:
        return {"source": self.source, "query": self.query, "test": self.test}


def checked(config: TocsinConfig, verify: Verify) -> Verify:
    """`verify` if it can run as given; Invalid naming the field otherwise."""
    source = config.sources.get(verify.source)
    if source is None:
        known = ", ".join(sorted(config.sources)) or "none"
        raise Invalid(f"verify.source: {verify.source!r} is not a source (known: {known})")
    if source.type == "sql" and not verify.query:
        raise Invalid("verify.query: an SQL source needs a query")
    if source.type == "http" and verify.query:
        raise Invalid("verify.query: an HTTP source takes no query (it sends its request)")
    if source.type not in ("sql", "http"):
        raise Invalid(
            f"verify.source: {verify.source!r} is a {source.type} source; use sql or http"
        )
    try:
        compile_expression(verify.test)
    except ExpressionError as exc:
        raise Invalid(f"verify.test: {exc}") from None
    return verify


def run_due(
    factory: sessionmaker[Session], config: TocsinConfig, clock: Clock, limit: int = BATCH
) -> int:
    """Run the checks of one batch of due action items; how many ran."""
    every = config.incidents.verify_every
    with session_scope(factory) as session:
        now = clock.now()
        due = session.execute(
            claims.locking(
                session,
                select(IncidentAction.id, IncidentAction.verify_at, IncidentAction.verify)
                .where(IncidentAction.verify_at <= now, IncidentAction.done_at.is_(None))
                .order_by(IncidentAction.verify_at, IncidentAction.id)
                .limit(limit),
            )
        ).all()
        mine = [
            (action_id, spec)
            for action_id, at, spec in due
            if claims.take(
                session,
                IncidentAction,
                IncidentAction.id == action_id,
                expect=[IncidentAction.verify_at == at],
                values={"verify_at": now + every},
            )
        ]
    for action_id, spec in mine:
        passed, result = run(config, spec or {})
        with session_scope(factory) as session:
            record(session, action_id, passed, result, clock)
    return len(mine)


def run(config: TocsinConfig, spec: Mapping[str, Any]) -> tuple[bool, str]:
    """(whether the test held for a row, one line saying how it went)."""
    source_config = config.sources.get(str(spec.get("source")))
    if source_config is None:
        return False, f"source {spec.get('source')!r} is no longer configured"
    test = str(spec.get("test", ""))
    try:
        source = open_source(source_config)
        try:
            rows = source.fetch(spec.get("query"), {})
        finally:
            source.close()
        held = [row for row in rows if evaluate(test, row)]
    except (SourceError, ExpressionError) as exc:
        return False, f"could not run: {exc}"[:RESULT_MAX]
    shown = _row(held[0] if held else rows[0]) if rows else "no rows"
    verdict = "holds" if held else "does not hold yet"
    return bool(held), f"{test} {verdict} ({shown})"[:RESULT_MAX]


def record(session: Session, action_id: int, passed: bool, result: str, clock: Clock) -> None:
    now = clock.now()
    session.execute(
        update(IncidentAction)
        .where(IncidentAction.id == action_id)
        .values(verify_result=result)
        .execution_options(synchronize_session=False)
    )
    if not passed or not claims.take(
        session,
        IncidentAction,
        IncidentAction.id == action_id,
        expect=[IncidentAction.done_at.is_(None)],  # done already: by hand, or another instance
        values={"done_at": now, "done_by": BY, "remind_at": None, "verify_at": None},
    ):
        return
    row = session.get(IncidentAction, action_id, populate_existing=True)
    if row is None:
        return
    timeline.append(
        session, row.incident_id, "note", now, actor=BY,
        note=f"action item #{row.id} verified by its check and closed: {result}",
        data={"action_id": row.id},
    )  # fmt: skip


def _row(row: Mapping[str, Any]) -> str:
    keep = {k: v for k, v in row.items() if k not in ("body", "headers", "json")}
    return ", ".join(f"{k} = {v}" for k, v in list(keep.items())[:6])
