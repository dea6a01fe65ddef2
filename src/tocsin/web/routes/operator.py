"""The operator API under `/api/v1`: alerts (list, show, acknowledge, resolve, through
`tocsin.actions`), checks with their evaluations, and running a check now as a dry run (the
same snapshot → evaluate path as `tocsin check run`; nothing is written).

Every operation declares its scope, answer and 4xx (`tocsin.web.schemas`); listings come a
page at a time (`tocsin.web.paging`); an unknown query parameter is a 400 (`KnownQuery`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin import actions
from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert
from tocsin.alerts.schemas import alert_out
from tocsin.checks import service as checks
from tocsin.checks.models import Evaluation
from tocsin.checks.sources import open_source
from tocsin.errors import NotFound, SourceError
from tocsin.outbox.schemas import alert_detail
from tocsin.tokens.service import Principal
from tocsin.web import paging
from tocsin.web.deps import (
    AppSettings,
    KnownQuery,
    Reader,
    Settings,
    Writer,
    in_transaction,
)
from tocsin.web.schemas import (
    AlertDetailOut,
    AlertOut,
    CheckOut,
    CheckRunOut,
    EvaluationOut,
    errors,
)
from tocsin.web.trail import ApiTrail, Trail

router = APIRouter(prefix="/api/v1", tags=["operator"], dependencies=[KnownQuery])


# Ids are 64-bit in the store: a larger one is bad input, not a driver's overflow.
AlertId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The alert's id")]


class Move(BaseModel):
    """Who acknowledges or resolves (default: the token's name) and a note for the timeline."""

    model_config = ConfigDict(extra="forbid")

    by: str | None = Field(default=None, min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


@router.get(
    "/alerts",
    summary="Alerts, newest first, a page at a time",
    response_model=list[AlertOut],
    responses=paging.responses(400),
)
async def list_alerts(
    settings: AppSettings,
    _who: Reader,
    page: Annotated[paging.Page, paging.pages(100, 10_000)],
    state: Literal["open", "firing", "acknowledged", "resolved"] | None = None,
) -> list[dict[str, Any]]:
    last = paging.decode(page.cursor, "alerts")
    before = None if last is None else paging.row_id(last)
    rows = await in_transaction(
        settings,
        lambda s: [
            alert_out(a)
            for a in alerts.list_(s, state=state, limit=page.limit + 1, before_id=before)
        ],
    )
    return page.keyed(rows, "alerts", lambda row: row["id"])


@router.get(
    "/alerts/{alert_id}",
    summary="One alert with its timeline and notifications",
    response_model=AlertDetailOut,
    responses=errors(400, 404),
)
async def show_alert(alert_id: AlertId, settings: AppSettings, _who: Reader) -> dict[str, Any]:
    return await in_transaction(settings, lambda s: alert_detail(s, alert_id))


@router.post(
    "/alerts/{alert_id}/ack",
    summary="Acknowledge a firing alert",
    response_model=AlertOut,
    responses=errors(400, 404, 409, 413),
)
async def ack_alert(
    alert_id: AlertId, settings: AppSettings, who: Writer, trail: ApiTrail, move: Move | None = None
) -> dict[str, Any]:
    return await _move(settings, who, trail, alert_id, "ack", move or Move())


async def _move(
    settings: Settings, who: Principal, trail: Trail, alert_id: int, verb: str, move: Move
) -> dict[str, Any]:
    act = actions.alerts.acknowledge if verb == "ack" else actions.alerts.resolve

    def work(session: Session) -> Alert:
        now = settings.clock.now()
        alert, _ = act(session, settings.pipeline, alert_id, move.by or who.name, now, move.note)
        detail = {"by": move.by} if move.by else None
        trail.record(session, who.name, f"alert.{verb}", now, f"alert {alert_id}", detail)
        return alert

    return alert_out(await in_transaction(settings, work))


@router.post(
    "/alerts/{alert_id}/resolve",
    summary="Resolve an alert by hand",
    response_model=AlertOut,
    responses=errors(400, 404, 409, 413),
)
async def resolve_alert(
    alert_id: AlertId, settings: AppSettings, who: Writer, trail: ApiTrail, move: Move | None = None
) -> dict[str, Any]:
    return await _move(settings, who, trail, alert_id, "resolve", move or Move())


@router.get(
    "/checks",
    summary="Configured checks and their schedules, in the configuration's order",
    response_model=list[CheckOut],
    responses=paging.responses(400),
)
async def list_checks(
    settings: AppSettings, _who: Reader, page: paging.Listing
) -> list[dict[str, Any]]:
    rows = await in_transaction(settings, lambda s: {r.check_name: r for r in checks.schedules(s)})
    out = []
    for check in settings.config.checks:
        row = rows.get(check.name)
        out.append(
            {
                "name": check.name,
                "source": check.source,
                "enabled": check.enabled,
                "every": check.schedule.every.total_seconds() if check.schedule.every else None,
                "cron": check.schedule.cron,
                "next_run_at": row.next_run_at if row else None,
                "last_run_at": row.last_run_at if row else None,
                "consecutive_errors": row.consecutive_errors if row else 0,
            }
        )
    return page.sliced(out)


def _check(settings: AppSettings, name: str) -> Any:
    try:
        return settings.config.check(name)
    except KeyError:
        raise NotFound(f"no check named {name!r}") from None


@router.get(
    "/checks/{name}/evaluations",
    summary="A check's evaluations, newest first, a page at a time",
    response_model=list[EvaluationOut],
    responses=paging.responses(400, 404),
)
async def evaluations(
    name: str,
    settings: AppSettings,
    _who: Reader,
    page: Annotated[paging.Page, paging.pages(50, 1000)],
) -> list[dict[str, Any]]:
    _check(settings, name)
    after = _evaluation_key(paging.decode(page.cursor, "evaluations"))

    def work(session: Session) -> list[dict[str, Any]]:
        query = select(Evaluation).where(Evaluation.check_name == name)
        if after is not None:
            at, last_id = after
            query = query.where(
                or_(
                    Evaluation.started_at < at,
                    and_(Evaluation.started_at == at, Evaluation.id < last_id),
                )
            )
        rows = session.scalars(
            query.order_by(Evaluation.started_at.desc(), Evaluation.id.desc()).limit(page.limit + 1)
        ).all()
        return [
            {
                "id": e.id,
                "slot_at": e.slot_at,
                "started_at": e.started_at,
                "duration_ms": e.duration_ms,
                "status": e.status,
                "error_kind": e.error_kind,
                "error": e.error,
                "results": e.results,
            }
            for e in rows
        ]

    rows = await in_transaction(settings, work)
    return page.keyed(rows, "evaluations", lambda row: [row["started_at"].isoformat(), row["id"]])


def _evaluation_key(position: Any) -> tuple[datetime, int] | None:
    """(started_at, id) of the last evaluation a page showed."""
    if position is None:
        return None
    try:
        text, last = position
        at = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        at = None
    if at is None or at.tzinfo is None:
        raise paging.refused()
    return at, paging.row_id(last)


@router.post(
    "/checks/{name}/run",
    summary="Evaluate a check now (dry run: stores nothing)",
    response_model=CheckRunOut,
    responses=errors(400, 404),
)
async def run_check(name: str, settings: AppSettings, _who: Writer) -> dict[str, Any]:
    check = _check(settings, name)
    now = settings.clock.now()
    snap = await in_transaction(settings, lambda s: actions.checks.snapshot(s, check, now))

    def evaluate() -> actions.checks.Outcome:
        try:
            source = open_source(
                settings.config.sources[check.source], egress=settings.config.egress
            )
        except SourceError as exc:
            return actions.checks.Outcome(
                name, now, now, "error", error_kind=exc.kind, error=str(exc)
            )
        try:
            return actions.checks.evaluate(check, source, snap, now)
        finally:
            source.close()

    outcome = await run_in_threadpool(evaluate)
    return {
        "check": name,
        "status": outcome.status,
        "error_kind": outcome.error_kind,
        "error": outcome.error,
        "elapsed_ms": round(outcome.elapsed_ms, 2),
        "results": [r.as_json() for r in outcome.results],
    }
