"""The console's on call: who holds each schedule now (and its backup), the shifts of the
next 14 days, taking a shift or handing one over (an override, through
`tocsin.oncall.service` as `tocsin oncall override` does, with an audit row), and each
schedule's iCalendar file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tocsin.config.fields import parse_duration
from tocsin.errors import Invalid, NotFound
from tocsin.oncall import ical
from tocsin.oncall import service as oncall
from tocsin.oncall.rotation import Shift
from tocsin.web.console_core import HEADERS, Operator, audited, field, form_of, page, signed_in
from tocsin.web.deps import AppSettings, Settings, in_transaction, read_only

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Operator, signed_in("viewer")]
Responder = Annotated[Operator, signed_in("responder")]
AHEAD = timedelta(days=14)
ICAL_AHEAD = timedelta(days=90)
FIELDS = ("schedule", "user", "start", "for", "reason")


@dataclass
class Draft:
    values: dict[str, str] = dataclasses.field(default_factory=dict)
    problems: dict[str, str] = dataclasses.field(default_factory=dict)


def _shift(settings: Settings, zone: str, shift: Shift) -> dict[str, Any]:
    user = settings.config.users.get(shift.user) if shift.user else None
    local = ZoneInfo(zone)
    return {
        "user": shift.user,
        "name": (user.name or shift.user) if user else None,
        "start": shift.start.astimezone(local),
        "end": shift.end.astimezone(local),
        "start_utc": shift.start.isoformat(),
        "end_utc": shift.end.isoformat(),
        "source": shift.source,
    }


def schedules(session: Session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Each schedule: its zone, who is on call now and as backup, the next 14 days' shifts."""
    out = []
    for name in sorted(settings.config.schedules):
        zone = settings.config.schedules[name].timezone
        now_on = oncall.on_call(session, settings.config, name, now)
        ahead = oncall.shifts(session, settings.config, name, now, now + AHEAD)
        out.append(
            {
                "name": name,
                "zone": zone,
                "primary": _shift(settings, zone, now_on.primary),
                "backup": None if now_on.backup is None else _shift(settings, zone, now_on.backup),
                "backup_schedule": now_on.backup_schedule,
                "shifts": [_shift(settings, zone, s) for s in ahead],
            }
        )
    return out


async def _page(settings: Settings, who: Operator, draft: Draft, status: int = 200) -> HTMLResponse:
    now = settings.clock.now()
    rows = await read_only(settings, lambda s: schedules(s, settings, now))
    return page(
        "console/oncall.html",
        status,
        operator=who,
        schedules=rows,
        users=sorted(settings.config.users),
        draft=draft,
        active="oncall",
    )


@router.get("/oncall", response_class=HTMLResponse)
async def oncall_page(settings: AppSettings, who: Viewer) -> HTMLResponse:
    return await _page(settings, who, Draft({"user": who.user, "start": "now", "for": "8h"}))


def _when(text: str, zone: str, now: datetime) -> datetime:
    """`now`, or a local time in the schedule's zone (`2026-12-03 09:00`, or with an offset)."""
    if text in ("", "now"):
        return now
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"start: {text[:40]!r} is not 'now' or a time like 2026-12-03 09:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(UTC)


@router.post("/oncall/override", response_class=HTMLResponse)
async def take(request: Request, settings: AppSettings, who: Responder) -> Response:
    """Cover a schedule from `start` for `for` (or until `end`, the shift's own end, when a
    row's "Take" button sends it): `user` is who covers, yourself by default."""
    sent = await form_of(request)
    draft = Draft({name: field(sent, name)[:200] for name in FIELDS})
    values = draft.values
    values["user"] = values["user"] or who.user
    spec = settings.config.schedules.get(values["schedule"])
    if spec is None:
        draft.problems["schedule"] = (
            f"schedule: one of {', '.join(sorted(settings.config.schedules))}"
        )
    if values["user"] not in settings.config.users:
        draft.problems["user"] = "user: not one of the configuration's users"
    now = settings.clock.now()
    start = end = now
    if spec is not None:
        try:
            start = _when(values["start"], spec.timezone, now)
            end_text = field(sent, "end")
            if end_text:
                end = _when(end_text, spec.timezone, now)
            else:
                end = start + parse_duration(values["for"] or "8h")
        except Invalid as exc:
            draft.problems["start"] = str(exc)
        except ValueError as exc:
            draft.problems["for"] = f"for: {exc}"
    if draft.problems:
        return await _page(settings, who, draft, 400)

    def work(session: Session) -> int:
        made = oncall.create_override(
            session,
            settings.config,
            schedule=values["schedule"],
            user=values["user"],
            start=max(start, now) if field(sent, "end") else start,
            end=end,
            by=who.user,
            now=now,
            reason=values["reason"],
        )
        detail = {
            "user": made.username,
            "start_at": made.start_at.isoformat(),
            "end_at": made.end_at.isoformat(),
        }
        audited(session, who, "oncall.override", now, f"schedule {made.schedule}", detail)
        return made.id

    try:
        await in_transaction(settings, work)
    except (Invalid, NotFound) as exc:
        draft.problems["start"] = str(exc)
        return await _page(settings, who, draft, 400)
    return RedirectResponse("/oncall", 303)


@router.get("/oncall/{schedule}.ics")
async def calendar(schedule: str, settings: AppSettings, who: Viewer) -> Response:
    """The schedule's next 90 days as an iCalendar file (the same as `tocsin oncall ical`)."""
    if schedule not in settings.config.schedules:
        return page("console/refused.html", 404, message="no such schedule", operator=who)
    now = settings.clock.now()
    found = await read_only(
        settings, lambda s: oncall.shifts(s, settings.config, schedule, now, now + ICAL_AHEAD)
    )

    def display(user: str) -> str:
        spec = settings.config.users.get(user)
        return (spec.name if spec else None) or user

    text = ical.calendar(schedule, found, display, now)
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{schedule}.ics"'}
    return Response(text, media_type="text/calendar; charset=utf-8", headers=headers)
