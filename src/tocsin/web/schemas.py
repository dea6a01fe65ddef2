"""What the operator API under `/api/v1` answers: one model per shape, so the OpenAPI
document says what each operation returns (and the answer is checked against it), and the
error body with the 4xx each operation declares (`errors(...)`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["CRITICAL", "HIGH", "WARNING", "INFO"]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(Out):
    """Every error: a code (`bad_request`, `unauthorized`, `not_found`…) and a sentence;
    bad input lists one problem per field or parameter."""

    error: str
    message: str
    problems: list[str] | None = Field(
        default=None, description="one `where: what` per bad field or parameter"
    )


_SAYS = {
    400: "Bad input: a field, parameter or cursor named in `problems`; nothing was changed",
    401: "No token, or an unknown or revoked one",
    403: "The token lacks the scope this operation needs",
    404: "No such thing",
    409: "The change conflicts with the state it is in (already acknowledged, ended…)",
    413: "The body is over api.max_body_bytes",
    429: "The token is over api.rate_limit; retry after Retry-After seconds",
}
AUTH = (401, 403, 429)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an operation that can answer these 4xx, with the token's 401, 403
    and 429 always."""
    return {
        code: {"model": ErrorOut, "description": _SAYS[code]} for code in sorted({*codes, *AUTH})
    }


class AlertOut(Out):
    id: int
    fingerprint: str
    origin: str = Field(description="check, heartbeat, alertmanager, pagerduty, events…")
    check_name: str | None
    source: str | None
    labels: dict[str, str]
    severity: Severity
    state: Literal["firing", "acknowledged", "resolved"]
    title: str
    message: str
    value: float | None
    runbook: str | None
    details: dict[str, Any] | None
    started_at: datetime
    updated_at: datetime
    ends_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    previous_id: int | None = Field(description="the alert this one fires again after")


class TimelineEventOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    at: datetime
    kind: str
    from_: str | None = Field(alias="from")
    to: str | None
    severity: str | None
    actor: str | None
    note: str | None


class NotificationOut(Out):
    id: str
    channel: str
    state: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None


class AlertDetailOut(AlertOut):
    timeline: list[TimelineEventOut]
    notifications: list[NotificationOut]


class CheckOut(Out):
    name: str
    source: str
    enabled: bool
    every: float | None = Field(description="seconds between runs, or null for a cron check")
    cron: str | None
    next_run_at: datetime | None
    last_run_at: datetime | None
    consecutive_errors: int


class RowResultOut(BaseModel):
    """One row of a check's result: its labels, value, the severity it fires at."""

    model_config = ConfigDict(extra="allow")

    fingerprint: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    value: float | None = None
    severity: str | None = None
    raw_severity: str | None = Field(default=None, description="before `for:` holds")
    message: str | None = None


class EvaluationOut(Out):
    id: int
    slot_at: datetime
    started_at: datetime
    duration_ms: float
    status: Literal["ok", "error", "inactive"]
    error_kind: str | None
    error: str | None
    results: list[RowResultOut]


class CheckRunOut(BaseModel):
    check: str
    status: Literal["ok", "error", "inactive"]
    error_kind: str | None
    error: str | None
    elapsed_ms: float
    results: list[RowResultOut]


class HeartbeatOut(BaseModel):
    name: str
    status: Literal["new", "up", "late", "down"]
    ping_url: str
    last_ping_at: datetime | None
    next_due_at: datetime | None
    alert_at: datetime | None
    last_duration_s: float | None
    configured: bool


class _Span(BaseModel):
    status: Literal["active", "pending", "expired"]
    starts_at: datetime
    ends_at: datetime
    every: str | None = Field(description="cron schedule of a recurring one")
    duration_seconds: float | None
    timezone: str
    created_by: str
    created_at: datetime
    suppressed: int = Field(description="alerts it muted so far")


class SilenceOut(_Span):
    id: str
    matchers: list[str]
    comment: str
    updated_at: datetime | None


class WindowOut(_Span):
    id: str
    title: str
    description: str
    services: list[str]
    next_start: datetime | None
    public: bool = Field(description="shown on the status page as scheduled maintenance")


class KnownIssueOut(BaseModel):
    id: str
    matchers: list[str]
    message_contains: str | None
    message_regex: str | None
    reason: str
    status: Literal["active", "expired"]
    expires_at: datetime
    origin: str
    created_by: str | None
    created_at: datetime
    suppressed: int


class WebhookAnswer(BaseModel):
    status: Literal["success"]
    alerts: int


class EventOutcome(BaseModel):
    outcome: str
    alert_id: int | None


class EventsAnswer(BaseModel):
    status: Literal["success"]
    results: list[EventOutcome]


class ReportOut(Out):
    """A configured report, its next scheduled run and its last finished run."""

    name: str
    title: str
    schedule: str
    channels: list[str]
    enabled: bool
    next_run_at: datetime | None
    last_run_id: int | None
    last_status: Literal["healthy", "needs_attention"] | None


class ReportRunOut(Out):
    """A finished run of a report: for one slot of its schedule, or asked for by hand."""

    id: int
    report: str
    trigger: Literal["schedule", "manual"]
    slot_at: datetime
    finished_at: datetime | None
    status: Literal["healthy", "needs_attention"] | None
    posted: int = Field(description="outbox notices written (one per part per channel)")


class SloBurnOut(Out):
    """One of the SRE workbook's burn-rate pairs, as of now."""

    long: str
    short: str
    factor: float
    tier: Literal["page", "ticket"]
    long_rate: float
    short_rate: float
    burning: bool


class SloOut(Out):
    """An SLO's error budget over its window as of now, and its burn rates."""

    name: str
    service: str
    description: str | None
    kind: Literal["availability", "latency"]
    objective: float = Field(description="percent, like 99.9")
    window: str = Field(description="rolling like 30d, or month")
    start: datetime
    end: datetime
    at: datetime
    unit: Literal["seconds", "events"]
    bad: float
    total: float
    attained_percent: float | None
    budget_remaining_percent: float = Field(description="negative when overspent")
    budget_minutes: float
    remaining_minutes: float
    status: Literal["Within Budget", "Warning", "Budget Exceeded"]
    warning: float = Field(description="the status is Warning at this percentage left or less")
    burning: dict[str, bool] = Field(description="page / ticket: whether a pair of it burns")
    burns: list[SloBurnOut]


class ReportRunDetailOut(ReportRunOut):
    content: str | None = Field(description="the report as Markdown, as it was posted")
    figures: dict[str, Any] | None = Field(description="each section's level, rows, figures")
    content_hash: str | None = Field(description="SHA-256 of the content and the figures")
