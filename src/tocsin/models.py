"""Every table, imported in one place for Alembic and for creating test stores."""

from tocsin.alerts.models import Alert, AlertEvent
from tocsin.api.models import ApiToken, ServerSecret
from tocsin.checks.models import CheckSample, CheckSchedule, CheckSeries, Evaluation
from tocsin.db import Base
from tocsin.heartbeats.models import Heartbeat, HeartbeatPing
from tocsin.notify.models import Notification
from tocsin.worker.models import WorkerHeartbeat

__all__ = [
    "Alert",
    "AlertEvent",
    "ApiToken",
    "Base",
    "CheckSample",
    "CheckSchedule",
    "CheckSeries",
    "Evaluation",
    "Heartbeat",
    "HeartbeatPing",
    "Notification",
    "ServerSecret",
    "WorkerHeartbeat",
]
