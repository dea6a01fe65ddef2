"""The console's incidents: the list (open by default), declaring one, and an incident's
page — roles, linked alerts, posted updates, the timeline — where a responder posts an
update or changes the status. Every change goes through `tocsin.actions.incidents` (the one
door), as the CLI and the API do, with an audit row in the same transaction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tocsin import actions
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.incidents import followups, lifecycle, schemas
from tocsin.incidents import service as incidents
from tocsin.web.console_core import Operator, Refused, audited, field, form_of, page, signed_in
from tocsin.web.deps import AppSettings, Settings, in_transaction, read_only

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Operator, signed_in("viewer")]
Responder = Annotated[Operator, signed_in("responder")]
SHOWN = 100
FILTERS = ("open", "all", *lifecycle.STATUSES)


@dataclass
class Form:
    """A form's fields as typed, and what is wrong with them, by field."""

    values: dict[str, str] = dataclasses.field(default_factory=dict)
    problems: dict[str, str] = dataclasses.field(default_factory=dict)


def _problem(form: Form, exc: Invalid, default: str) -> None:
    """An Invalid's message beside the field it names ("title: …"), else beside `default`."""
    text = str(exc)
    name, colon, _rest = text.partition(":")
    form.problems[name if colon and name in form.values else default] = text


@router.get("/incidents", response_class=HTMLResponse)
async def incidents_page(request: Request, settings: AppSettings, who: Viewer) -> HTMLResponse:
    wanted = request.query_params.get("status") or "open"
    if wanted not in FILTERS:
        return await _list(
            settings, who, "open", Form(), 400, f"status: one of {', '.join(FILTERS)}"
        )
    return await _list(settings, who, wanted, Form({"severity": "SEV-2"}))


async def _list(
    settings: Settings,
    who: Operator,
    wanted: str,
    form: Form,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    def work(session: Session) -> list[dict[str, Any]]:
        chosen = None if wanted == "all" else wanted
        rows = incidents.list_(session, status=chosen, limit=SHOWN)
        return [schemas.incident_summary(i) for i in rows]

    rows = await read_only(settings, work)
    return page(
        "console/incidents.html",
        status,
        operator=who,
        rows=rows,
        wanted=wanted,
        filters=FILTERS,
        severities=lifecycle.SEVERITIES,
        form=form,
        error=error,
        active="incidents",
    )


@router.post("/incidents", response_class=HTMLResponse)
async def declare(request: Request, settings: AppSettings, who: Responder) -> Response:
    sent = await form_of(request)
    form = Form({name: field(sent, name) for name in ("title", "severity", "services")})
    if not form.values["title"]:
        form.problems["title"] = "title: required, say what is wrong"
    if form.problems:
        return await _list(settings, who, "open", form, 400)
    now = settings.clock.now()
    services = [s.strip() for s in form.values["services"].split(",") if s.strip()]
    new = actions.incidents.NewIncident(
        title=form.values["title"], severity=form.values["severity"], services=services[:20]
    )

    def work(session: Session) -> str:
        made = actions.incidents.declare(session, settings.pipeline, new, who.user, now)
        audited(session, who, "incident.declare", now, target=f"incident {made.id}")
        return made.id

    try:
        made = await in_transaction(settings, work)
    except Invalid as exc:
        _problem(form, exc, "title")
        return await _list(settings, who, "open", form, 400)
    return RedirectResponse(f"/incidents/{made}", 303)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
async def incident_page(incident_id: str, settings: AppSettings, who: Viewer) -> HTMLResponse:
    return await _detail(settings, who, incident_id, Form(), Form())


async def _detail(
    settings: Settings,
    who: Operator,
    incident_id: str,
    update: Form,
    move: Form,
    status: int = 200,
) -> HTMLResponse:
    if not lifecycle.is_id(incident_id):
        raise Refused(404, "no such incident: ids look like INC-2026-11-22-001")
    try:
        shown = await read_only(settings, lambda s: _shown(s, incident_id))
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    moves = sorted(lifecycle.MOVES[shown["status"]], key=lifecycle.STATUSES.index)
    return page(
        "console/incident.html",
        status,
        operator=who,
        incident=shown,
        moves=moves,
        roles=lifecycle.ROLE_NAMES,
        update=update,
        move=move,
        active="incidents",
    )


def _shown(session: Session, incident_id: str) -> dict[str, Any]:
    """The incident as the API shows it, with its action items and post-mortem draft."""
    shown = schemas.incident_detail(session, incident_id)
    found = followups.list_actions(session, incident_id=incident_id)
    shown["actions"] = [schemas.action_out(a) for a in found]
    shown["postmortem"] = incidents.get(session, incident_id).postmortem
    return shown


@router.post("/incidents/{incident_id}/update", response_class=HTMLResponse)
async def post_update(
    incident_id: str, request: Request, settings: AppSettings, who: Responder
) -> Response:
    sent = await form_of(request)
    form = Form({name: field(sent, name) for name in ("message", "status", "public")})
    if not form.values["message"]:
        form.problems["message"] = "message: required, say what is known and what is next"
    if form.values["status"] and form.values["status"] not in lifecycle.STATUSES:
        form.problems["status"] = f"status: one of {', '.join(lifecycle.STATUSES)}"
    if form.problems:
        return await _detail(settings, who, incident_id, form, Form(), 400)
    now = settings.clock.now()
    new = actions.incidents.NewUpdate(
        message=form.values["message"],
        status=form.values["status"] or None,
        public=True if form.values["public"] == "yes" else None,
    )

    def work(session: Session) -> None:
        actions.incidents.post_update(session, settings.pipeline, incident_id, new, who.user, now)
        detail = {"status": new.status} if new.status else None
        audited(session, who, "incident.update", now, f"incident {incident_id}", detail)

    return await _change(settings, who, incident_id, work, form, "message")


@router.post("/incidents/{incident_id}/status", response_class=HTMLResponse)
async def change_status(
    incident_id: str, request: Request, settings: AppSettings, who: Responder
) -> Response:
    sent = await form_of(request)
    form = Form({name: field(sent, name) for name in ("status", "note")})
    if form.values["status"] not in lifecycle.STATUSES:
        form.problems["status"] = f"status: one of {', '.join(lifecycle.STATUSES)}"
        return await _detail(settings, who, incident_id, Form(), form, 400)
    now = settings.clock.now()
    wanted, note = form.values["status"], form.values["note"][:2000] or None

    def work(session: Session) -> None:
        actions.incidents.move(
            session, settings.pipeline, incident_id, wanted, who.user, now, note=note
        )
        audited(session, who, "incident.status", now, f"incident {incident_id}", {"to": wanted})

    return await _change(settings, who, incident_id, work, form, "status", as_move=True)


async def _change(
    settings: Settings,
    who: Operator,
    incident_id: str,
    work: Any,
    form: Form,
    default: str,
    *,
    as_move: bool = False,
) -> Response:
    """Run a change; a refusal is shown beside the form's field, nothing written."""
    if not lifecycle.is_id(incident_id):
        raise Refused(404, "no such incident: ids look like INC-2026-11-22-001")
    try:
        await in_transaction(settings, work)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    except (Invalid, Conflict) as exc:
        _problem(form, Invalid(str(exc)), default)
        update, move = (Form(), form) if as_move else (form, Form())
        status = 409 if isinstance(exc, Conflict) else 400
        return await _detail(settings, who, incident_id, update, move, status)
    return RedirectResponse(f"/incidents/{incident_id}", 303)
