"""Every table, imported in one place for Alembic and for creating test stores."""

from tocsin.alerts.models import Alert, AlertEvent
from tocsin.checks.models import CheckSample, CheckSchedule, CheckSeries, Evaluation
from tocsin.console.models import AuditEvent, ConsoleAccount, ConsoleSession
from tocsin.db import Base
from tocsin.escalation.models import Escalation, EscalationStep
from tocsin.heartbeats.models import Heartbeat, HeartbeatPing
from tocsin.incidents.models import (
    Incident,
    IncidentAction,
    IncidentAlert,
    IncidentDay,
    IncidentEvent,
    IncidentUpdate,
)
from tocsin.instances.models import WorkerHeartbeat
from tocsin.noise.models import (
    AlertGroup,
    AlertGroupEntry,
    FlapSeries,
    KnownIssue,
    MaintenanceWindow,
    MutedAlert,
    Silence,
)
from tocsin.oncall.models import OncallOverride
from tocsin.outbox.models import Notification
from tocsin.periodic import JobSlot
from tocsin.reports.models import ReportRun
from tocsin.runbooks.models import RunbookRun
from tocsin.statuspage.models import StatusPublish
from tocsin.tokens.models import ApiToken, ServerSecret

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertGroup",
    "AlertGroupEntry",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CheckSample",
    "CheckSchedule",
    "CheckSeries",
    "ConsoleAccount",
    "ConsoleSession",
    "Escalation",
    "EscalationStep",
    "Evaluation",
    "FlapSeries",
    "Heartbeat",
    "HeartbeatPing",
    "Incident",
    "IncidentAction",
    "IncidentAlert",
    "IncidentDay",
    "IncidentEvent",
    "IncidentUpdate",
    "JobSlot",
    "KnownIssue",
    "MaintenanceWindow",
    "MutedAlert",
    "Notification",
    "OncallOverride",
    "ReportRun",
    "RunbookRun",
    "ServerSecret",
    "Silence",
    "StatusPublish",
    "WorkerHeartbeat",
]
