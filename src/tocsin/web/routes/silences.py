"""Silences over HTTP, two ways:

- Alertmanager's API v2 (`GET|POST /api/v2/silences`, `GET|DELETE /api/v2/silence/{id}`),
  so amtool and other Alertmanager clients add, query, update and expire Tocsin's silences
  as they would an Alertmanager's; its bad-input answers are JSON strings, as there;
- Tocsin's own (`GET|POST /api/v1/silences`, `DELETE /api/v1/silences/{id}`), with the
  CLI's options: matcher texts, `for` or `ends_at`, a recurrence.

Also `alertmanager_alerts`, what `GET /api/v2/alerts` answers: open alerts with the status
noise control gave them, filtered as Alertmanager filters them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.lifecycle import OPEN
from tocsin.alerts.models import Alert
from tocsin.config import parse_duration
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.inbound.alertmanager import gettable, shown_labels
from tocsin.noise import alertmanager as am
from tocsin.noise import rescreen, silences
from tocsin.noise.alertmanager import text
from tocsin.noise.common import check_reach, span
from tocsin.noise.models import Silence
from tocsin.noise.schemas import silence_out
from tocsin.tokens.service import Principal
from tocsin.web import paging
from tocsin.web.deps import AppSettings, KnownQuery, Reader, Settings, Writer, in_transaction
from tocsin.web.schemas import SilenceOut, errors
from tocsin.web.trail import ApiTrail, Trail

router = APIRouter()
T = TypeVar("T")
R = TypeVar("R")
MAX_ALERTS = 10_000


# --- bodies shared with maintenance windows ----------------------------------------------------


def _duration(text: str) -> str:
    try:
        value = parse_duration(text)
    except OverflowError:
        raise ValueError(f"{text!r} is too long") from None
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return text


Duration = Annotated[str, text(32), AfterValidator(_duration)]
Name = Annotated[str, text(100, min_length=1)]


class Span(BaseModel):
    """When something holds: from `starts_at` (default now) until `ends_at` or for `for`
    (one of them; a recurring one may give neither and then runs a year), optionally
    recurring on the cron schedule `every` in `timezone`, each occurrence lasting
    `duration`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    for_: Duration | None = Field(default=None, alias="for")
    every: Annotated[str, text(100)] | None = None
    duration: Duration | None = None
    timezone: Annotated[str, text(64)] = "UTC"

    @model_validator(mode="after")
    def _one_end(self) -> Span:
        if self.ends_at is not None and self.for_ is not None:
            raise ValueError("give one of for (like 2h) or ends_at, not both")
        if self.ends_at is None and self.for_ is None and self.every is None:
            raise ValueError("give one of for (like 2h) or ends_at")
        if (self.every is None) != (self.duration is None):
            raise ValueError("every and duration go together")
        return self

    def resolve(self, now: datetime) -> tuple[datetime, datetime, timedelta | None]:
        """(start, end, occurrence length); Invalid when the end cannot be represented."""
        length = parse_duration(self.for_) if self.for_ is not None else None
        starts_at, ends_at = span(now, self.starts_at, self.ends_at, length)
        check_reach(ends_at, now)
        occurrence = parse_duration(self.duration) if self.duration is not None else None
        return starts_at, ends_at, occurrence


Row = dict[str, Any]
Rows = list[Row]
RowId = Annotated[str, text(100)]
ShowAll = Annotated[bool, Query(alias="all", description="Include ended ones")]


async def shown(
    settings: Settings,
    work: Callable[[Session, datetime], R],
    out: Callable[[R, datetime], Row],
    audited: tuple[Trail, Principal, str] | None = None,
) -> Row:
    """`work` at the clock's now, in one transaction; the row it returns, shown by `out`;
    with `audited` (where from, which token, the action like `silence.create`), the audit
    row naming the row changed, in the same transaction."""
    now = settings.clock.now()

    def run(session: Session) -> Row:
        row = work(session, now)
        if audited is not None:
            trail, who, action = audited
            target = f"{action.split('.')[0]} {getattr(row, 'id', '')}"
            trail.record(session, who.name, action, now, target)
        return out(row, now)

    return await in_transaction(settings, run)


async def listed(
    settings: Settings,
    rows: Callable[[Session, datetime], Iterable[R]],
    out: Callable[[R, datetime], Row],
) -> Rows:
    now = settings.clock.now()
    return await in_transaction(settings, lambda s: [out(r, now) for r in rows(s, now)])


# --- Alertmanager API v2 -----------------------------------------------------------------------


async def am_answer(settings: Settings, work: Callable[[Session], T]) -> T | JSONResponse:
    """Run `work` in one transaction; bad input, a missing silence or a conflict answer
    with a JSON string, as Alertmanager's API does (its error bodies are strings)."""
    try:
        return await in_transaction(settings, work)
    except Invalid as exc:
        return JSONResponse(str(exc), 400)
    except NotFound as exc:
        return JSONResponse(str(exc), 404)
    except Conflict as exc:
        return JSONResponse(str(exc), 409)


Filters = Annotated[
    list[Annotated[str, text(1000)]] | None,
    Query(alias="filter", description='Matchers like alertname="x"'),
]


@router.get(
    "/api/v2/silences",
    tags=["alertmanager"],
    summary="Alertmanager API v2: silences (expired ones for 120h), by filter",
    response_model=None,
)
async def get_silences(
    settings: AppSettings, _who: Reader, filters: Filters = None
) -> list[dict[str, Any]] | JSONResponse:
    now = settings.clock.now()

    def work(session: Session) -> list[dict[str, Any]]:
        wanted = am.parse_filters(filters)
        rows = silences.list_silences(session, now, include_expired=True)
        return [
            am.gettable_silence(s, now)
            for s in am.listed(rows, now)
            if am.filter_matches(wanted, am.silence_labels(s))
        ]

    return await am_answer(settings, work)


@router.post(
    "/api/v2/silences",
    tags=["alertmanager"],
    summary="Alertmanager API v2: create a silence, or change one (with its id)",
    response_model=None,
)
async def post_silence(
    body: am.PostableSilence, settings: AppSettings, who: Writer, trail: ApiTrail
) -> dict[str, str] | JSONResponse:
    now = settings.clock.now()

    def work(session: Session) -> dict[str, str]:
        texts = am.matcher_texts(body.matchers)
        if body.endsAt <= now:
            raise Invalid("end time can't be in the past")
        if body.startsAt >= body.endsAt:
            raise Invalid("start time must be before end time")
        check_reach(body.endsAt, now)
        if body.id:
            found = silences.update_silence(
                session,
                body.id,
                texts,
                body.startsAt,
                body.endsAt,
                body.createdBy,
                body.comment,
                now=now,
            )
        else:
            found = silences.create_silence(
                session,
                texts,
                max(body.startsAt, now),  # Alertmanager starts a back-dated silence now
                body.endsAt,
                body.createdBy,
                body.comment,
                now=now,
            )
        action = "silence.update" if body.id else "silence.create"
        trail.record(session, who.name, action, now, f"silence {found.id}")
        return {"silenceID": found.id}

    return await am_answer(settings, work)


@router.get(
    "/api/v2/silence/{silence_id}",
    tags=["alertmanager"],
    summary="Alertmanager API v2: one silence",
    response_model=None,
)
async def get_silence(
    silence_id: uuid.UUID, settings: AppSettings, _who: Reader
) -> dict[str, Any] | JSONResponse:
    now = settings.clock.now()
    return await am_answer(
        settings, lambda s: am.gettable_silence(silences.get_silence(s, str(silence_id)), now)
    )


@router.delete(
    "/api/v2/silence/{silence_id}",
    tags=["alertmanager"],
    summary="Alertmanager API v2: expire a silence (200 if it already ended, as there)",
    response_model=None,
)
async def delete_silence(
    silence_id: uuid.UUID, settings: AppSettings, who: Writer, trail: ApiTrail
) -> Response:
    now = settings.clock.now()

    def work(session: Session) -> None:
        if silences.get_silence(session, str(silence_id)).ends_at <= now:
            return  # already ended: Alertmanager answers 200 and changes nothing (amtool exits 0)
        silences.expire_silence(session, str(silence_id), now)
        trail.record(session, who.name, "silence.expire", now, f"silence {silence_id}")

    answer = await am_answer(settings, work)
    return answer if isinstance(answer, JSONResponse) else Response(status_code=200)


def alertmanager_alerts(
    session: Session,
    now: datetime,
    *,
    active: bool = True,
    silenced: bool = True,
    inhibited: bool = True,
    filters: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Open alerts in `GET /api/v2/alerts`'s shape with noise control's status, kept as
    Alertmanager keeps them: `active=false` drops unmuted ones, `silenced=false` silenced
    ones, `inhibited=false` inhibited ones (amtool's default asks for active ones only)."""
    wanted = am.parse_filters(filters)
    muted = am.muted_in_force(session, now)
    rows = session.scalars(
        select(Alert).where(Alert.state.in_(OPEN)).order_by(Alert.id).limit(MAX_ALERTS)
    ).all()
    out = []
    for alert in rows:
        # What was recorded, else what mutes it now: a silence begun after it fired shows
        # at once, as Alertmanager decides silencing when asked.
        status = am.alert_status(muted.get(alert.id) or rescreen.in_force(session, alert, now))
        if (
            (not active and status["state"] == "active")
            or (not silenced and status["silencedBy"])
            or (not inhibited and status["inhibitedBy"])
            or not am.filter_matches(wanted, shown_labels(alert))
        ):
            continue
        out.append({**gettable(alert, now), "status": status})
    return out


# --- Tocsin's own --------------------------------------------------------------------------------


class SilenceCreate(Span):
    """A silence: matchers (each text may hold several, `{a="b", c=~"d"}`), why, and by
    whom (default: the token's name)."""

    matchers: list[Annotated[str, text(1000)]] = Field(min_length=1, max_length=100)
    comment: Annotated[str, text(10_000, min_length=1)]
    created_by: Name | None = None


@router.get(
    "/api/v1/silences",
    tags=["operator"],
    summary="Silences in force or scheduled, by start",
    response_model=list[SilenceOut],
    responses=paging.responses(400),
    dependencies=[KnownQuery],
)
async def list_silences(
    settings: AppSettings,
    _who: Reader,
    page: paging.Listing,
    include_expired: ShowAll = False,
) -> Rows:
    rows = await listed(
        settings,
        lambda s, now: silences.list_silences(s, now, include_expired=include_expired),
        silence_out,
    )
    return page.sliced(rows)


@router.post(
    "/api/v1/silences",
    tags=["operator"],
    summary="Mute matching alerts",
    status_code=201,
    response_model=SilenceOut,
    responses=errors(400, 413),
    dependencies=[KnownQuery],
)
async def create_silence(
    body: SilenceCreate, settings: AppSettings, who: Writer, trail: ApiTrail
) -> Row:
    def work(session: Session, now: datetime) -> Silence:
        starts_at, ends_at, length = body.resolve(now)
        return silences.create_silence(
            session,
            body.matchers,
            starts_at,
            ends_at,
            body.created_by or who.name,
            body.comment,
            now=now,
            every=body.every,
            duration=length,
            timezone=body.timezone,
        )

    return await shown(settings, work, silence_out, (trail, who, "silence.create"))


@router.delete(
    "/api/v1/silences/{silence_id}",
    tags=["operator"],
    summary="Expire a silence now; alerts it muted that still fire are notified",
    response_model=SilenceOut,
    responses=errors(400, 404, 409),
    dependencies=[KnownQuery],
)
async def expire_silence(
    silence_id: RowId, settings: AppSettings, who: Writer, trail: ApiTrail
) -> Row:
    return await shown(
        settings,
        lambda s, now: silences.expire_silence(s, silence_id, now),
        silence_out,
        (trail, who, "silence.expire"),
    )
