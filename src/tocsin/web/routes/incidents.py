"""Incidents under `/api/v1/incidents`: declare, list, show, move, assign, link, note, post
status updates (also in reference 000 6.3.2 step 6's exact JSON), resolve, close, merge; the
post-mortem draft and marking it done, action items (`/api/v1/action-items` across incidents),
and customer communication templates rendered with the incident's data.

Every operation declares its scope and 4xx: bad input is a 400 naming the field, an unknown
incident a 404, a move the lifecycle does not allow a 409. Writes go through
`tocsin.actions.incidents` and `tocsin.incidents`; answers are `incident_summary` /
`incident_detail` (`tocsin.incidents.schemas`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tocsin import actions
from tocsin.errors import Invalid, NotFound
from tocsin.incidents import followups, links, templates
from tocsin.incidents import postmortem as postmortems
from tocsin.incidents import service as incidents
from tocsin.incidents.schemas import action_out, incident_detail, incident_summary, update_out
from tocsin.incidents.verify import Verify
from tocsin.web import paging
from tocsin.web.deps import AppSettings, KnownQuery, Reader, Writer, in_transaction
from tocsin.web.schemas import Out, errors

router = APIRouter(prefix="/api/v1", tags=["incidents"], dependencies=[KnownQuery])

IncidentId = Annotated[
    str,
    Path(pattern=r"^INC-\d{4}-\d{2}-\d{2}-\d{3,6}$", description="Like INC-2026-11-22-001"),
]
Status = Literal["investigating", "identified", "mitigating", "resolved", "closed"]
Text = Annotated[str, Field(max_length=10_000)]
Who = Annotated[str | None, Field(default=None, min_length=1, max_length=100)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nul(self) -> Body:
        # PostgreSQL stores no NUL character in text: refuse it here, naming the field.
        for name, value in self:
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, str) and "\x00" in v for v in values):
                raise ValueError(f"{name}: contains a NUL character")
        return self


class IncidentCreate(Body):
    title: str = Field(min_length=1, max_length=300)
    severity: str = Field(default="SEV-2", description="SEV-1 … SEV-4 (or CRITICAL … INFO)")
    services: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    commander: Who = Field(default=None, description="a configured user (none: no commander)")
    alerts: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        default_factory=list, max_length=100, description="alert ids to link"
    )
    declared_at: datetime | None = Field(
        default=None, description="when it began, for a retroactive incident (not in the future)"
    )
    customer_impact: Text = ""
    public: bool = Field(default=False, description="shown on the status page")
    by: Who = Field(default=None, description="who declares (default: the token's name)")


class StatusMove(Body):
    status: Status
    note: Text | None = None
    by: Who = None


class RoleAssign(Body):
    role: Literal["commander", "comms_lead", "scribe"]
    user: str = Field(min_length=1, max_length=100, description="a configured user")
    by: Who = None


class AlertLink(Body):
    alert_id: int = Field(ge=1, le=2**63 - 1)
    by: Who = None


class NoteIn(Body):
    text: Text = Field(min_length=1)
    by: Who = None


class UpdateIn(Body):
    """A status update. Reference 000 6.3.2 step 6's JSON is accepted as it is:
    `incident_id` (must be this one), `status`, `customer_impact`, `eta_resolution`,
    `last_update` (accepted; the update is stamped with the server's clock), `details`
    (the message)."""

    message: Text | None = Field(default=None, min_length=1)
    details: Text | None = Field(default=None, min_length=1, description="the message (ref. 000)")
    status: Status | None = None
    customer_impact: Text | None = None
    eta: str | None = Field(default=None, max_length=100)
    eta_resolution: str | None = Field(default=None, max_length=100, description="= eta")
    incident_id: str | None = Field(default=None, max_length=32, description="ref. 000's id")
    last_update: datetime | None = Field(default=None, description="ref. 000's; not used")
    public: bool | None = None
    by: Who = None

    @model_validator(mode="after")
    def _one_message(self) -> UpdateIn:
        if self.message is None and self.details is None:
            raise ValueError("give `message` (or reference 000's `details`)")
        return self


class MergeIn(Body):
    into: str = Field(pattern=r"^INC-\d{4}-\d{2}-\d{2}-\d{3,6}$")
    by: Who = None


class Move(Body):
    note: Text | None = None
    by: Who = None


class IncidentOut(Out):
    id: str
    title: str
    severity: Literal["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    status: Status
    public: bool
    customer_impact: str
    eta: str | None
    services: list[str]
    commander: str | None
    commander_label: str = Field(description='the commander, or "no commander"')
    comms_lead: str | None
    scribe: str | None
    declared_at: datetime
    declared_by: str
    identified_at: datetime | None
    mitigating_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    last_update_at: datetime | None
    next_update_due_at: datetime | None
    merged_into: str | None
    postmortem_written_at: datetime | None = Field(description="when the draft was written")
    postmortem_done_at: datetime | None = Field(description="`closed` needs it")


class LinkedAlertOut(Out):
    id: int
    title: str
    severity: str
    state: str
    started_at: datetime


class UpdateOut(Out):
    id: int
    at: datetime
    status: Status
    message: str
    customer_impact: str
    eta: str | None
    by: str | None
    public: bool


class IncidentEventOut(Out):
    at: datetime
    kind: str
    actor: str | None
    note: str | None
    data: dict[str, Any]


class IncidentDetailOut(IncidentOut):
    alerts: list[LinkedAlertOut]
    updates: list[UpdateOut]
    timeline: list[IncidentEventOut]


@router.get(
    "/incidents",
    summary="Incidents, newest declared first, a page at a time",
    response_model=list[IncidentOut],
    responses=paging.responses(400),
)
async def list_incidents(
    settings: AppSettings,
    _who: Reader,
    page: paging.Listing,
    status: Literal["open", "investigating", "identified", "mitigating", "resolved", "closed"]
    | None = None,
) -> list[dict[str, Any]]:
    last = paging.decode(page.cursor, "incidents")
    after = None
    if last is not None:
        if not (
            isinstance(last, list) and len(last) == 2 and all(isinstance(x, str) for x in last)
        ):
            raise paging.refused()
        try:
            after = (datetime.fromisoformat(last[0]), last[1])
        except ValueError:
            raise paging.refused() from None
    rows = await in_transaction(
        settings,
        lambda s: [
            incident_summary(i)
            for i in incidents.list_(s, status=status, limit=page.limit + 1, after=after)
        ],
    )
    return page.keyed(rows, "incidents", lambda r: [r["declared_at"].isoformat(), r["id"]])


@router.post(
    "/incidents",
    summary="Declare an incident",
    status_code=201,
    response_model=IncidentDetailOut,
    responses=errors(400, 404, 413),
)
async def declare(body: IncidentCreate, settings: AppSettings, who: Writer) -> dict[str, Any]:
    new = actions.incidents.NewIncident(
        title=body.title,
        severity=body.severity,
        services=body.services,
        commander=body.commander,
        declared_at=body.declared_at,
        customer_impact=body.customer_impact,
        public=body.public,
    )

    def work(s: Any) -> dict[str, Any]:
        now = settings.clock.now()
        found = actions.incidents.declare(
            s, settings.pipeline, new, body.by or who.name, now, alert_ids=body.alerts
        )
        return incident_detail(s, found.id)

    return await in_transaction(settings, work)


@router.get(
    "/incidents/{incident_id}",
    summary="One incident with its alerts, updates and timeline",
    response_model=IncidentDetailOut,
    responses=errors(400, 404),
)
async def show(incident_id: IncidentId, settings: AppSettings, _who: Reader) -> dict[str, Any]:
    return await in_transaction(settings, lambda s: incident_detail(s, incident_id))


@router.post(
    "/incidents/{incident_id}/updates",
    summary="Post a status update (also reference 000 6.3.2 step 6's JSON)",
    status_code=201,
    response_model=UpdateOut,
    responses=errors(400, 404, 409, 413),
)
async def post_update(
    incident_id: IncidentId, body: UpdateIn, settings: AppSettings, who: Writer
) -> dict[str, Any]:
    if body.incident_id is not None and body.incident_id != incident_id:
        raise Invalid(f"incident_id: {body.incident_id!r} is not this incident ({incident_id})")
    new = actions.incidents.NewUpdate(
        message=str(body.message or body.details),
        status=body.status,
        customer_impact=body.customer_impact,
        eta=body.eta if body.eta is not None else body.eta_resolution,
        public=body.public,
    )
    return await in_transaction(
        settings,
        lambda s: update_out(
            actions.incidents.post_update(
                s, settings.pipeline, incident_id, new, body.by or who.name, settings.clock.now()
            )
        ),
    )


@router.post(
    "/incidents/{incident_id}/status",
    summary="Move the incident to another status",
    response_model=IncidentOut,
    responses=errors(400, 404, 409, 413),
)
async def move(
    incident_id: IncidentId, body: StatusMove, settings: AppSettings, who: Writer
) -> dict[str, Any]:
    return await _move(settings, incident_id, body.status, body.by or who.name, body.note)


@router.post(
    "/incidents/{incident_id}/resolve",
    summary="Resolve the incident",
    response_model=IncidentOut,
    responses=errors(400, 404, 409, 413),
)
async def resolve(
    incident_id: IncidentId, settings: AppSettings, who: Writer, body: Move | None = None
) -> dict[str, Any]:
    body = body or Move()
    return await _move(settings, incident_id, "resolved", body.by or who.name, body.note)


@router.post(
    "/incidents/{incident_id}/close",
    summary="Close a resolved incident",
    response_model=IncidentOut,
    responses=errors(400, 404, 409, 413),
)
async def close(
    incident_id: IncidentId, settings: AppSettings, who: Writer, body: Move | None = None
) -> dict[str, Any]:
    body = body or Move()
    return await _move(settings, incident_id, "closed", body.by or who.name, body.note)


async def _move(
    settings: Any, incident_id: str, status: str, by: str, note: str | None
) -> dict[str, Any]:
    def work(s: Any) -> dict[str, Any]:
        now = settings.clock.now()
        return incident_summary(
            actions.incidents.move(s, settings.pipeline, incident_id, status, by, now, note=note)
        )

    result: dict[str, Any] = await in_transaction(settings, work)
    return result


@router.post(
    "/incidents/{incident_id}/roles",
    summary="Give a role (commander, comms_lead, scribe) to a configured user",
    response_model=IncidentOut,
    responses=errors(400, 404, 409, 413),
)
async def assign(
    incident_id: IncidentId, body: RoleAssign, settings: AppSettings, who: Writer
) -> dict[str, Any]:
    return await in_transaction(
        settings,
        lambda s: incident_summary(
            incidents.assign(
                s,
                settings.pipeline,
                incident_id,
                body.role,
                body.user,
                body.by or who.name,
                settings.clock.now(),
            )
        ),
    )


@router.post(
    "/incidents/{incident_id}/alerts",
    summary="Link an alert to the incident",
    status_code=201,
    response_model=IncidentDetailOut,
    responses=errors(400, 404, 409, 413),
)
async def link(
    incident_id: IncidentId, body: AlertLink, settings: AppSettings, who: Writer
) -> dict[str, Any]:
    def work(s: Any) -> dict[str, Any]:
        links.link(s, incident_id, body.alert_id, body.by or who.name, settings.clock.now())
        return incident_detail(s, incident_id)

    return await in_transaction(settings, work)


@router.post(
    "/incidents/{incident_id}/notes",
    summary="Add a note to the timeline",
    status_code=201,
    response_model=IncidentDetailOut,
    responses=errors(400, 404, 413),
)
async def note(
    incident_id: IncidentId, body: NoteIn, settings: AppSettings, who: Writer
) -> dict[str, Any]:
    def work(s: Any) -> dict[str, Any]:
        incidents.note(s, incident_id, body.text, body.by or who.name, settings.clock.now())
        return incident_detail(s, incident_id)

    return await in_transaction(settings, work)


@router.post(
    "/incidents/{incident_id}/merge",
    summary="Fold this incident into another: alerts move, both timelines stay",
    response_model=IncidentDetailOut,
    responses=errors(400, 404, 409, 413),
)
async def merge(
    incident_id: IncidentId, body: MergeIn, settings: AppSettings, who: Writer
) -> dict[str, Any]:
    def work(s: Any) -> dict[str, Any]:
        into = links.merge(s, incident_id, body.into, body.by or who.name, settings.clock.now())
        return incident_detail(s, into.id)

    return await in_transaction(settings, work)


class PostmortemOut(Out):
    incident_id: str
    markdown: str = Field(description="the draft written when the incident resolved")
    written_at: datetime | None
    done_at: datetime | None = Field(description="when it was marked reviewed and done")
    due_at: datetime | None = Field(description="its owner is reminded after this")


class VerifyIn(Body):
    source: str = Field(min_length=1, max_length=100, description="an SQL or HTTP source")
    query: str | None = Field(default=None, max_length=20_000, description="SQL sources only")
    test: str = Field(min_length=1, max_length=1000, description="like `stuck == 0`")


class ActionIn(Body):
    text: Text = Field(min_length=1)
    owner: str = Field(min_length=1, max_length=100, description="a configured user")
    due_at: datetime = Field(description="with a zone; its owner is reminded once it is past")
    verify: VerifyIn | None = Field(
        default=None, description="a check that closes the item once its test holds"
    )
    by: Who = None


class ActionOut(Out):
    id: int
    incident_id: str
    text: str
    owner: str
    due_at: datetime
    done_at: datetime | None
    done_by: str | None
    reminded_at: datetime | None
    verify: dict[str, Any] | None = Field(description="its check, if it has one")
    verify_result: str | None = Field(description="how its check's last run went")


class CommsOut(Out):
    incident_id: str
    template: str
    text: str


def _postmortem_out(found: Any) -> dict[str, Any]:
    if found.postmortem is None:
        raise NotFound(f"{found.id} has no post-mortem yet: it is drafted when it resolves")
    return {
        "incident_id": found.id,
        "markdown": found.postmortem,
        "written_at": found.postmortem_written_at,
        "done_at": found.postmortem_done_at,
        "due_at": found.postmortem_due_at,
    }


@router.get(
    "/incidents/{incident_id}/postmortem",
    summary="The post-mortem draft (Markdown), written when the incident resolved",
    response_model=PostmortemOut,
    responses=errors(400, 404),
)
async def postmortem(incident_id: IncidentId, settings: AppSettings, _: Reader) -> dict[str, Any]:
    return await in_transaction(settings, lambda s: _postmortem_out(incidents.get(s, incident_id)))


@router.post(
    "/incidents/{incident_id}/postmortem/done",
    summary="Mark the post-mortem reviewed and done (`closed` needs it)",
    response_model=PostmortemOut,
    responses=errors(400, 404, 409, 413),
)
async def postmortem_done(
    incident_id: IncidentId, settings: AppSettings, who: Writer, body: Move | None = None
) -> dict[str, Any]:
    by = (body.by if body else None) or who.name
    return await in_transaction(
        settings,
        lambda s: _postmortem_out(postmortems.mark_done(s, incident_id, by, settings.clock.now())),
    )


@router.post(
    "/incidents/{incident_id}/actions",
    summary="Add an action item with an owner and a due date",
    status_code=201,
    response_model=ActionOut,
    responses=errors(400, 404, 413),
)
async def add_action(
    incident_id: IncidentId, body: ActionIn, settings: AppSettings, who: Writer
) -> dict[str, Any]:
    if body.due_at.tzinfo is None:
        raise Invalid("due_at: give a zone (like 2026-12-01T17:00:00Z)")
    return await in_transaction(
        settings,
        lambda s: action_out(
            followups.add_action(
                s,
                settings.pipeline,
                incident_id,
                body.text,
                body.owner,
                body.due_at,
                body.by or who.name,
                settings.clock.now(),
                Verify(body.verify.source, body.verify.test, body.verify.query)
                if body.verify is not None
                else None,
            )
        ),
    )


@router.get(
    "/action-items",
    summary="Action items across incidents, soonest due first",
    response_model=list[ActionOut],
    responses=errors(400),
)
async def list_actions(
    settings: AppSettings,
    _: Reader,
    open: bool = False,
    incident: Annotated[str | None, Query(max_length=32)] = None,
) -> list[dict[str, Any]]:
    return await in_transaction(
        settings,
        lambda s: [
            action_out(a) for a in followups.list_actions(s, open_only=open, incident_id=incident)
        ],
    )


@router.post(
    "/action-items/{action_id}/done",
    summary="Mark an action item done",
    response_model=ActionOut,
    responses=errors(400, 404, 409, 413),
)
async def action_done(
    action_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    settings: AppSettings,
    who: Writer,
    body: Move | None = None,
) -> dict[str, Any]:
    by = (body.by if body else None) or who.name
    return await in_transaction(
        settings,
        lambda s: action_out(followups.complete_action(s, action_id, by, settings.clock.now())),
    )


@router.get(
    "/incidents/{incident_id}/comms",
    summary="A customer communication template rendered with the incident's data",
    response_model=CommsOut,
    responses=errors(400, 404),
)
async def comms(
    incident_id: IncidentId,
    settings: AppSettings,
    _: Reader,
    template: Annotated[str, Query(min_length=1, max_length=100)] = "status-update",
) -> dict[str, Any]:
    def work(s: Any) -> dict[str, Any]:
        detail = incident_detail(s, incident_id)
        text = templates.render(settings.pipeline.config.incidents, template, detail)
        return {"incident_id": incident_id, "template": template, "text": text}

    return await in_transaction(settings, work)
