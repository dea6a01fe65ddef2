"""Maintenance windows and known issues under `/api/v1`, with the CLI's options:
`GET|POST /maintenance`, `POST /maintenance/{id}/end`, `GET|POST /known-issues`,
`DELETE /known-issues/{id}` (expire). Reading needs `read`, changing needs `write`; bad
input answers 400/422 and writes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from tocsin.config import parse_duration
from tocsin.errors import Invalid
from tocsin.noise import known_issues, maintenance
from tocsin.noise.alertmanager import text
from tocsin.noise.common import KNOWN_ISSUE_SPAN, MAX_REACH
from tocsin.noise.models import KnownIssue, MaintenanceWindow
from tocsin.noise.schemas import known_issue_out, window_out
from tocsin.web import paging
from tocsin.web.deps import AppSettings, KnownQuery, Reader, Writer
from tocsin.web.routes.silences import (
    Duration,
    Name,
    Row,
    RowId,
    Rows,
    ShowAll,
    Span,
    listed,
    shown,
)
from tocsin.web.schemas import KnownIssueOut, WindowOut, errors
from tocsin.web.trail import ApiTrail

router = APIRouter(prefix="/api/v1", tags=["operator"], dependencies=[KnownQuery])


class WindowCreate(Span):
    """A maintenance window: alerts whose `service` label is one of `services` are recorded,
    not notified, while it holds."""

    title: Annotated[str, text(200, min_length=1)]
    services: list[Annotated[str, text(100)]] = Field(min_length=1, max_length=100)
    description: Annotated[str, text(10_000)] = ""
    created_by: Name | None = None
    public: bool = Field(
        default=False, description="show it on the status page as scheduled maintenance"
    )


@router.get(
    "/maintenance",
    summary="Maintenance windows in force or scheduled, by start",
    response_model=list[WindowOut],
    responses=paging.responses(400),
)
async def list_windows(
    settings: AppSettings,
    _who: Reader,
    page: paging.Listing,
    include_ended: ShowAll = False,
) -> Rows:
    rows = await listed(
        settings,
        lambda s, now: maintenance.list_windows(s, now, include_ended=include_ended),
        window_out,
    )
    return page.sliced(rows)


@router.post(
    "/maintenance",
    summary="Schedule a maintenance window",
    status_code=201,
    response_model=WindowOut,
    responses=errors(400, 413),
)
async def create_window(
    body: WindowCreate, settings: AppSettings, who: Writer, trail: ApiTrail
) -> Row:
    def work(session: Session, now: datetime) -> MaintenanceWindow:
        starts_at, ends_at, length = body.resolve(now)
        return maintenance.create_window(
            session,
            body.title,
            body.services,
            starts_at,
            ends_at,
            body.created_by or who.name,
            now=now,
            description=body.description,
            every=body.every,
            duration=length,
            timezone=body.timezone,
            public=body.public,
        )

    return await shown(settings, work, window_out, (trail, who, "maintenance.create"))


@router.post(
    "/maintenance/{window_id}/end",
    summary="End a maintenance window now (one scheduled ahead is cancelled)",
    response_model=WindowOut,
    responses=errors(400, 404, 409),
)
async def end_window(window_id: RowId, settings: AppSettings, who: Writer, trail: ApiTrail) -> Row:
    return await shown(
        settings,
        lambda s, now: maintenance.end_window(s, window_id, now),
        window_out,
        (trail, who, "maintenance.end"),
    )


class KnownIssueCreate(BaseModel):
    """A known issue: an id like PRINT-2025-11-16-001, a pattern (matchers, text the title
    or message contains, a regular expression on them), a reason, and an expiry
    (`expires_at`, or `for`, one hour by default)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: Annotated[str, text(100, min_length=1)]
    reason: Annotated[str, text(10_000, min_length=1)]
    matchers: list[Annotated[str, text(1000)]] = Field(default_factory=list, max_length=100)
    message_contains: Annotated[str, text(500)] | None = None
    message_regex: Annotated[str, text(500)] | None = None
    expires_at: AwareDatetime | None = None
    for_: Duration | None = Field(default=None, alias="for")
    created_by: Name | None = None

    def expiry(self, now: datetime) -> datetime:
        """When it expires; Invalid past MAX_REACH (where date arithmetic overflows)."""
        if self.expires_at is not None and self.for_ is not None:
            raise Invalid("give one of for (like 2h) or expires_at, not both")
        if self.expires_at is not None:
            ahead = self.expires_at - now
        elif self.for_ is not None:
            ahead = parse_duration(self.for_)
        else:
            ahead = KNOWN_ISSUE_SPAN
        if ahead > MAX_REACH:
            raise Invalid("a known issue may not be set to expire more than 100 years ahead")
        return self.expires_at or now + ahead


@router.get(
    "/known-issues",
    summary="Known issues and how many alerts each suppressed, oldest first",
    response_model=list[KnownIssueOut],
    responses=paging.responses(400),
)
async def list_known_issues(
    settings: AppSettings,
    _who: Reader,
    page: paging.Listing,
    include_expired: ShowAll = False,
) -> Rows:
    rows = await listed(
        settings,
        lambda s, now: known_issues.list_known_issues(s, now, include_expired=include_expired),
        known_issue_out,
    )
    return page.sliced(rows)


@router.post(
    "/known-issues",
    summary="Suppress and count alerts matching a known issue until it expires",
    status_code=201,
    response_model=KnownIssueOut,
    responses=errors(400, 409, 413),
)
async def create_known_issue(
    body: KnownIssueCreate, settings: AppSettings, who: Writer, trail: ApiTrail
) -> Row:
    def work(session: Session, now: datetime) -> KnownIssue:
        return known_issues.create_known_issue(
            session,
            body.id,
            body.reason,
            body.expiry(now),
            now=now,
            matchers=body.matchers,
            message_contains=body.message_contains,
            message_regex=body.message_regex,
            created_by=body.created_by or who.name,
            origin="api",
        )

    return await shown(settings, work, known_issue_out, (trail, who, "known_issue.create"))


@router.delete(
    "/known-issues/{issue_id}",
    summary="Expire a known issue now",
    response_model=KnownIssueOut,
    responses=errors(400, 404, 409),
)
async def expire_known_issue(
    issue_id: RowId, settings: AppSettings, who: Writer, trail: ApiTrail
) -> Row:
    return await shown(
        settings,
        lambda s, now: known_issues.expire_known_issue(s, issue_id, now),
        known_issue_out,
        (trail, who, "known_issue.expire"),
    )
