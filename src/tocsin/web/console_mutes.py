"""The console's maintenance windows and known issues: each a list with Extend and
End/Expire, and a create form that previews the open alerts it would mute (live as you
type, or with the Preview button without JavaScript) — through `tocsin.noise.maintenance`
and `tocsin.noise.known_issues`, as `tocsin maintenance` and `tocsin known-issue` do, each
change an audit row. Silences have their own module (`console_silences`)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.lifecycle import OPEN
from tocsin.alerts.models import Alert
from tocsin.config.fields import parse_duration
from tocsin.errors import Conflict, Invalid
from tocsin.noise import known_issues, maintenance
from tocsin.noise.common import KNOWN_ISSUES, WINDOWS, check_matchers, extend_now, status_of
from tocsin.noise.decide import known_issue_applies, maintenance_applies
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
WINDOW_FIELDS = ("title", "services", "start", "for", "description")
ISSUE_FIELDS = ("id", "matchers", "contains", "reason", "for")


@dataclass
class Draft:
    values: dict[str, str] = dataclasses.field(default_factory=dict)
    problems: dict[str, str] = dataclasses.field(default_factory=dict)


def _open_alerts(session: Session, hit: Callable[[Any], bool]) -> dict[str, Any]:
    """The open alerts `hit` picks (the newest `SHOWN`) and how many in all."""
    query = select(Alert.id, Alert.severity, Alert.title, Alert.message, Alert.labels)
    rows = session.execute(query.where(Alert.state.in_(OPEN)).order_by(Alert.id.desc()))
    hits = [row._asdict() for row in rows if hit(row)]
    return {"count": len(hits), "alerts": hits[:SHOWN], "empty": False}


def _services(text: str) -> list[str]:
    return sorted({s.strip() for s in text.split(",") if s.strip()})


def window_preview(session: Session, values: Mapping[str, str]) -> dict[str, Any] | None:
    services = _services(values.get("services", ""))
    if not services:
        return None
    return _open_alerts(session, lambda row: maintenance_applies(services, row.labels))


def issue_preview(session: Session, values: Mapping[str, str]) -> dict[str, Any] | None:
    """Invalid naming a bad matcher or expression."""
    parsed = check_matchers(_lines(values.get("matchers", "")))
    contains = values.get("contains") or None
    if not parsed and contains is None:
        return None
    return _open_alerts(
        session,
        lambda row: known_issue_applies(
            parsed, contains, None, row.labels, f"{row.title}\n{row.message}"
        ),
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _length(text: str, problems: dict[str, str]) -> timedelta | None:
    try:
        length = parse_duration(text)
    except ValueError as exc:
        problems["for"] = f"for: {exc}"
        return None
    if not timedelta(minutes=1) <= length <= LONGEST:
        problems["for"] = "for: between 1m and 366d"
        return None
    return length


def _start(text: str, now: datetime, problems: dict[str, str]) -> datetime:
    if text in ("", "now"):
        return now
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        problems["start"] = f"start: {text[:40]!r} is not 'now' or a UTC time like 2026-12-03 22:00"
        return now
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


async def _page(
    settings: Settings, who: Operator, kind: str, draft: Draft, status: int = 200
) -> HTMLResponse:
    now = settings.clock.now()

    def work(session: Session) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        shown = None
        try:
            if kind == "maintenance":
                shown = window_preview(session, draft.values)
            else:
                shown = issue_preview(session, draft.values)
        except Invalid as exc:
            draft.problems.setdefault("matchers", f"matchers: {exc}")
        return _rows(session, kind, now), shown

    rows, shown = await read_only(settings, work)
    return page(
        f"console/{'maintenance' if kind == 'maintenance' else 'known_issues'}.html",
        status,
        operator=who,
        rows=rows,
        draft=draft,
        preview=shown,
        error=None,
        active=kind,
    )


def _rows(session: Session, kind: str, now: datetime) -> list[dict[str, Any]]:
    if kind == "maintenance":
        return [
            {
                "id": w.id,
                "title": w.title,
                "services": w.services,
                "starts_at": w.starts_at,
                "ends_at": w.ends_at,
                "every": w.every,
                "status": status_of(w, now),
                "created_by": w.created_by,
                "suppressed": w.suppressed_count,
            }
            for w in maintenance.list_windows(session, now)
        ]
    return [
        {
            "id": i.id,
            "matchers": i.matchers,
            "contains": i.message_contains,
            "regex": i.message_regex,
            "reason": i.reason,
            "expires_at": i.expires_at,
            "origin": i.origin,
            "created_by": i.created_by,
            "suppressed": i.suppressed_count,
        }
        for i in known_issues.list_known_issues(session, now)
    ]


def _query_draft(request: Request, names: tuple[str, ...], **defaults: str) -> Draft:
    params = request.query_params
    return Draft({n: (params.get(n) or defaults.get(n, ""))[:2000] for n in names})


@router.get("/maintenance", response_class=HTMLResponse)
async def maintenance_page(request: Request, settings: AppSettings, who: Viewer) -> HTMLResponse:
    draft = _query_draft(request, WINDOW_FIELDS, start="now", **{"for": "2h"})
    return await _page(settings, who, "maintenance", draft)


@router.get("/known-issues", response_class=HTMLResponse)
async def known_issues_page(request: Request, settings: AppSettings, who: Viewer) -> HTMLResponse:
    return await _page(
        settings, who, "known-issues", _query_draft(request, ISSUE_FIELDS, **{"for": "7d"})
    )


@router.get("/maintenance/preview", response_class=HTMLResponse)
@router.get("/known-issues/preview", response_class=HTMLResponse)
async def preview_fragment(request: Request, settings: AppSettings, who: Viewer) -> HTMLResponse:
    is_window = request.url.path.startswith("/maintenance")
    values = {k: v[:2000] for k, v in request.query_params.items()}
    look = window_preview if is_window else issue_preview
    try:
        shown = await read_only(settings, lambda s: look(s, values))
    except Invalid as exc:
        return page("console/silence_preview.html", 400, preview=None, error=str(exc))
    return page("console/silence_preview.html", preview=shown, error=None)


@router.post("/maintenance", response_class=HTMLResponse)
async def create_window(request: Request, settings: AppSettings, who: Responder) -> Response:
    sent = await form_of(request)
    draft = Draft({n: field(sent, n)[:2000] for n in WINDOW_FIELDS})
    values, problems = draft.values, draft.problems
    now = settings.clock.now()
    if not values["title"]:
        problems["title"] = "title: required, say what the work is"
    if not _services(values["services"]):
        problems["services"] = "services: at least one, comma-separated"
    start = _start(values["start"], now, problems)
    length = _length(values["for"], problems)
    if problems or length is None:
        return await _page(settings, who, "maintenance", draft, 400)

    def work(session: Session) -> None:
        made = maintenance.create_window(
            session,
            values["title"][:200],
            _services(values["services"]),
            start,
            start + length,
            who.user,
            now=now,
            description=values["description"],
        )
        detail = {"services": made.services, "ends_at": made.ends_at.isoformat()}
        audited(session, who, "maintenance.create", now, f"maintenance {made.id}", detail)

    try:
        await in_transaction(settings, work)
    except Invalid as exc:
        problems["start"] = f"start: {exc}"
        return await _page(settings, who, "maintenance", draft, 400)
    return RedirectResponse("/maintenance", 303)


@router.post("/known-issues", response_class=HTMLResponse)
async def create_issue(request: Request, settings: AppSettings, who: Responder) -> Response:
    sent = await form_of(request)
    draft = Draft({n: field(sent, n)[:2000] for n in ISSUE_FIELDS})
    values, problems = draft.values, draft.problems
    now = settings.clock.now()
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$", values["id"]):
        problems["id"] = "id: letters, digits and . _ : - (like PRINT-2026-12-02-001)"
    if not _lines(values["matchers"]) and not values["contains"]:
        problems["matchers"] = "matchers: give matchers, a text the alert contains, or both"
    if not values["reason"]:
        problems["reason"] = "reason: required, say why these alerts are expected"
    length = _length(values["for"], problems)
    if problems or length is None:
        return await _page(settings, who, "known-issues", draft, 400)

    def work(session: Session) -> None:
        made = known_issues.create_known_issue(
            session,
            values["id"],
            values["reason"],
            now + length,
            now=now,
            matchers=_lines(values["matchers"]),
            message_contains=values["contains"] or None,
            created_by=who.user,
            origin="console",
        )
        detail = {"matchers": made.matchers, "expires_at": made.expires_at.isoformat()}
        audited(session, who, "known_issue.create", now, f"known issue {made.id}", detail)

    try:
        await in_transaction(settings, work)
    except (Invalid, Conflict) as exc:
        name = "id" if isinstance(exc, Conflict) else "matchers"
        problems[name] = f"{name}: {exc}"
        return await _page(settings, who, "known-issues", draft, 409 if name == "id" else 400)
    return RedirectResponse("/known-issues", 303)


@router.post("/maintenance/{row_id}/{move}")
@router.post("/known-issues/{row_id}/{move}")
async def change(
    row_id: str, move: str, request: Request, settings: AppSettings, who: Responder
) -> Response:
    is_window = request.url.path.startswith("/maintenance")
    what, back = (
        ("maintenance window", "/maintenance") if is_window else ("known issue", "/known-issues")
    )
    ending = "end" if is_window else "expire"
    if move not in ("extend", ending) or len(row_id) > 100:
        raise Refused(404, f"no such action: extend or {ending}")
    form = await form_of(request)
    problems: dict[str, str] = {}
    length = _length(field(form, "for") or "1h", problems) if move == "extend" else None
    if problems:
        raise Refused(400, problems["for"])
    now = settings.clock.now()
    action = f"{'maintenance' if is_window else 'known_issue'}.{move}"

    def work(session: Session) -> None:
        if length is not None and is_window:
            extend_now(session, WINDOWS, row_id, length, now)
        elif length is not None:
            extend_now(session, KNOWN_ISSUES, row_id, length, now)
        elif is_window:
            maintenance.end_window(session, row_id, now)
        else:
            known_issues.expire_known_issue(session, row_id, now)
        audited(session, who, action, now, target=f"{what} {row_id}")

    await change_or_refuse(settings, work)
    return RedirectResponse(back, 303)
