"""The console's silences: the list, a form that previews the open alerts its matchers
would mute (live as you type, or with the Preview button without JavaScript), create,
extend and expire — through `tocsin.noise.silences`, as the API and `tocsin silence` do,
each with an audit row. Maintenance windows and known issues are not here yet."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.lifecycle import OPEN
from tocsin.alerts.models import Alert
from tocsin.config.fields import parse_duration
from tocsin.errors import Invalid
from tocsin.matchers import matches_all
from tocsin.noise import silences
from tocsin.noise.common import check_matchers, status_of
from tocsin.web.console_core import (
    Operator,
    Refused,
    audited,
    change_or_refuse,
    field,
    form_of,
    page,
    signed_in,
)
from tocsin.web.deps import AppSettings, Settings, in_transaction, read_only

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Operator, signed_in("viewer")]
Responder = Annotated[Operator, signed_in("responder")]
SHOWN = 50
LONGEST = timedelta(days=366)


@dataclass
class Draft:
    """What the create form holds, and what is wrong with it, by field."""

    matchers: str = ""
    length: str = "2h"
    comment: str = ""
    problems: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.matchers.splitlines() if line.strip()]


def preview(session: Session, texts: list[str]) -> dict[str, Any]:
    """The open alerts these matchers would mute (the newest `SHOWN`) and how many in all;
    Invalid naming a bad matcher."""
    parsed = check_matchers(texts)
    if not parsed:
        return {"count": 0, "alerts": [], "empty": True}
    query = select(Alert.id, Alert.severity, Alert.title, Alert.labels).where(Alert.state.in_(OPEN))
    hits = [
        row._asdict()
        for row in session.execute(query.order_by(Alert.id.desc()))
        if matches_all(parsed, row.labels)
    ]
    return {"count": len(hits), "alerts": hits[:SHOWN], "empty": False}


def _listing(session: Session, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "matchers": s.matchers,
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "created_by": s.created_by,
            "comment": s.comment,
            "status": status_of(s, now),
            "suppressed": s.suppressed_count,
        }
        for s in silences.list_silences(session, now)
    ]


async def _page(settings: Settings, who: Operator, draft: Draft, status: int = 200) -> HTMLResponse:
    now = settings.clock.now()

    def work(session: Session) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        shown = None
        if draft.lines and "matchers" not in draft.problems:
            try:
                shown = preview(session, draft.lines)
            except Invalid as exc:
                draft.problems["matchers"] = str(exc)
        return _listing(session, now), shown

    rows, shown = await read_only(settings, work)
    return page(
        "console/silences.html",
        status,
        operator=who,
        rows=rows,
        draft=draft,
        preview=shown,
        active="silences",
    )


@router.get("/silences", response_class=HTMLResponse)
async def silences_page(request: Request, settings: AppSettings, who: Viewer) -> HTMLResponse:
    params = request.query_params
    draft = Draft(
        matchers=(params.get("matchers") or "")[:2000],
        length=(params.get("for") or "2h")[:20],
        comment=(params.get("comment") or "")[:500],
    )
    return await _page(settings, who, draft)


@router.get("/silences/preview", response_class=HTMLResponse)
async def preview_fragment(request: Request, settings: AppSettings, who: Viewer) -> HTMLResponse:
    lines = [x.strip() for x in (request.query_params.get("matchers") or "")[:2000].splitlines()]
    try:
        shown = await read_only(settings, lambda s: preview(s, [x for x in lines if x]))
    except Invalid as exc:
        return page("console/silence_preview.html", 400, preview=None, error=str(exc))
    return page("console/silence_preview.html", preview=shown, error=None)


def _length(text: str, problems: dict[str, str]) -> timedelta | None:
    try:
        length = parse_duration(text)
    except ValueError as exc:
        problems["for"] = str(exc)
        return None
    if not timedelta(minutes=1) <= length <= LONGEST:
        problems["for"] = "between 1m and 366d"
        return None
    return length


@router.post("/silences", response_class=HTMLResponse)
async def create(request: Request, settings: AppSettings, who: Responder) -> Response:
    form = await form_of(request)
    draft = Draft(field(form, "matchers")[:2000], field(form, "for"), field(form, "comment"))
    if not draft.lines:
        draft.problems["matchers"] = 'required: one matcher a line, like service="db"'
    if not draft.comment:
        draft.problems["comment"] = "required: say why"
    length = _length(draft.length, draft.problems)
    if draft.problems or length is None:
        return await _page(settings, who, draft, 400)
    now = settings.clock.now()

    def work(session: Session) -> str:
        made = silences.create_silence(
            session, draft.lines, now, now + length, who.user, draft.comment, now=now
        )
        audited(
            session,
            who,
            "silence.create",
            now,
            target=f"silence {made.id}",
            detail={"matchers": made.matchers, "ends_at": made.ends_at.isoformat()},
        )
        return made.id

    try:
        await in_transaction(settings, work)
    except Invalid as exc:
        draft.problems["matchers"] = str(exc)
        return await _page(settings, who, draft, 400)
    return RedirectResponse("/silences", 303)


@router.post("/silences/{silence_id}/{move}")
async def change(
    silence_id: str, move: str, request: Request, settings: AppSettings, who: Responder
) -> Response:
    if move not in ("extend", "expire") or len(silence_id) > 36:
        raise Refused(404, "no such silence action: extend or expire")
    form = await form_of(request)
    now = settings.clock.now()
    problems: dict[str, str] = {}
    length = _length(field(form, "for") or "1h", problems) if move == "extend" else None
    if problems:
        raise Refused(400, f"for: {problems['for']}")

    def work(session: Session) -> None:
        if move == "expire":
            silences.expire_silence(session, silence_id, now)
        else:
            old = silences.get_silence(session, silence_id)
            assert length is not None
            silences.update_silence(
                session,
                old.id,
                old.matchers,
                old.starts_at,
                max(old.ends_at, now) + length,
                old.created_by,
                old.comment,
                now=now,
            )
        audited(session, who, f"silence.{move}", now, target=f"silence {silence_id}")

    await change_or_refuse(settings, work)
    return RedirectResponse("/silences", 303)
