"""The console's alerts: the list (open by default, filters, keyset pages, refreshing
itself), an alert's detail, and acknowledge/resolve from either, through
`tocsin.actions.alerts` (the one door), so notifications and escalation behave exactly as
when the API or the CLI does it. Each change is an audit row in the same transaction."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from tocsin import actions
from tocsin.errors import Conflict, NotFound
from tocsin.web import console_views as views
from tocsin.web.console_core import Operator, Refused, audited, field, form_of, page, signed_in
from tocsin.web.deps import AppSettings, Settings, in_transaction, read_only

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Operator, signed_in("viewer")]
Responder = Annotated[Operator, signed_in("responder")]
AlertId = Annotated[int, Path(ge=1, le=2**63 - 1)]
OlderThan = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
MOVES = {"ack": "acknowledged", "resolve": "resolved"}
MAX_AT_ONCE = 200
NOTE_LIMIT = 2000


@router.get("/alerts", response_class=HTMLResponse)
async def alerts_page(request: Request, settings: AppSettings, who: Viewer) -> HTMLResponse:
    try:
        filters = views.read_filters(request.query_params)
    except views.FilterError as exc:
        return _list_page(who, views.Filters(), views.Listing([], None), 400, str(exc))
    listing = await read_only(settings, lambda s: views.list_alerts(s, filters))
    notice = _notice(request)
    partial = request.query_params.get("partial") == "rows"
    return _list_page(who, filters, listing, 200, None, notice, partial)


def _list_page(
    who: Operator,
    filters: views.Filters,
    listing: views.Listing,
    status: int,
    error: str | None,
    notice: str | None = None,
    partial: bool = False,
) -> HTMLResponse:
    return page(
        "console/alert_rows.html" if partial else "console/alerts.html",
        status,
        operator=who,
        filters=filters,
        listing=listing,
        error=error,
        notice=notice,
        states=views.STATES,
        severities=views.SEVERITIES,
        active="alerts",
    )


def _notice(request: Request) -> str | None:
    done, skipped = request.query_params.get("done"), request.query_params.get("skipped")
    if done is None or not done.isdigit() or not (skipped or "0").isdigit():
        return None
    text = f"{int(done)} alert(s) changed"
    if skipped and int(skipped):
        text += f"; {int(skipped)} skipped (already in that state or gone)"
    return text


@router.post("/alerts/act")
async def act_on_many(request: Request, settings: AppSettings, who: Responder) -> Response:
    form = await form_of(request)
    move = field(form, "action")
    if move not in (*MOVES, "silence"):
        raise Refused(400, "action: acknowledge, resolve or silence")
    texts = form.get("ids", [])
    if not texts:
        raise Refused(400, "ids: tick at least one alert")
    if len(texts) > MAX_AT_ONCE or not all(t.isdigit() and 0 < int(t) < 2**63 for t in texts):
        raise Refused(400, f"ids: up to {MAX_AT_ONCE} alert ids")
    ids = sorted({int(t) for t in texts})
    if move == "silence":
        return await _silence_form(settings, ids)
    done = await in_transaction(settings, lambda s: _move_many(s, settings, who, move, ids))
    try:  # back to the list as it was filtered, re-read so nothing else rides along
        query = views.read_filters(QueryParams(field(form, "back")[:2000])).query()
    except views.FilterError:
        query = views.Filters().query()
    return RedirectResponse(f"/alerts?{query}&done={done}&skipped={len(ids) - done}", 303)


async def _silence_form(settings: Settings, ids: list[int]) -> Response:
    """To the silence form, its matchers the labels every ticked alert shares: the form's
    preview then shows what else they would mute before anything is written."""
    labels = await read_only(settings, lambda s: views.labels_of(s, ids))
    shared = views.shared_labels(labels)
    if not shared:
        raise Refused(400, "ids: the ticked alerts share no label; silence them apart")
    matchers = "\n".join(
        f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(shared.items())
    )
    return RedirectResponse("/silences?" + urlencode({"matchers": matchers}), 303)


def _move_many(
    session: Session, settings: Settings, who: Operator, move: str, ids: list[int]
) -> int:
    done = 0
    for alert_id in ids:
        try:
            with session.begin_nested():  # one alert's conflict leaves the others' changes
                _move(session, settings, who, move, alert_id, None)
            done += 1
        except (Conflict, NotFound):
            continue
    return done


def _move(
    session: Session,
    settings: Settings,
    who: Operator,
    move: str,
    alert_id: int,
    note: str | None,
) -> None:
    now = settings.clock.now()
    act = actions.alerts.acknowledge if move == "ack" else actions.alerts.resolve
    act(session, settings.pipeline, alert_id, who.user, now, note)
    audited(session, who, f"alert.{move}", now, target=f"alert {alert_id}")


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert_page(
    alert_id: AlertId, settings: AppSettings, who: Viewer, older: OlderThan = None
) -> HTMLResponse:
    try:
        shown = await read_only(settings, lambda s: views.detail(s, alert_id, older))
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    return _detail_page(who, shown)


def _detail_page(
    who: Operator, shown: dict[str, Any], status: int = 200, error: str | None = None
) -> HTMLResponse:
    return page(
        "console/alert.html", status, operator=who, alert=shown, error=error, active="alerts"
    )


@router.post("/alerts/{alert_id}/{move}")
async def act_on_one(
    alert_id: AlertId, move: str, request: Request, settings: AppSettings, who: Responder
) -> Response:
    if move not in MOVES:
        raise Refused(404, f"no such action {move[:20]!r}: ack or resolve")
    form = await form_of(request)
    note = field(form, "note") or None
    if note is not None and len(note) > NOTE_LIMIT:
        shown = await read_only(settings, lambda s: views.detail(s, alert_id))
        return _detail_page(who, shown, 400, f"note: at most {NOTE_LIMIT} characters")
    try:
        await in_transaction(settings, lambda s: _move(s, settings, who, move, alert_id, note))
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    except Conflict as exc:
        shown = await read_only(settings, lambda s: views.detail(s, alert_id))
        return _detail_page(who, shown, 409, str(exc))
    return RedirectResponse(f"/alerts/{alert_id}", 303)
