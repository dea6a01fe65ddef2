"""Every table, imported in one place for Alembic and for creating test stores."""

from tocsin.alerts.models import Alert, AlertEvent
from tocsin.checks.models import CheckSample, CheckSchedule, CheckSeries, Evaluation
from tocsin.db import Base
from tocsin.noise.models import (
    AlertGroup,
    AlertGroupEntry,
    FlapSeries,
    KnownIssue,
    MaintenanceWindow,
    MutedAlert,
    Silence,
)
from tocsin.notify.models import Notification
from tocsin.worker.models import WorkerHeartbeat

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertGroup",
    "AlertGroupEntry",
    "Base",
    "CheckSample",
    "CheckSchedule",
    "CheckSeries",
    "Evaluation",
    "FlapSeries",
    "KnownIssue",
    "MaintenanceWindow",
    "MutedAlert",
    "Notification",
    "Silence",
    "WorkerHeartbeat",
]
