"""What happens after an alert changes: the one path from a transition to its notifications.

DESIGN's order is maintenance → known issue → silence → inhibition → grouping → routing →
escalation → outbox. Every decision is a row written in the caller's transaction, so a
transition and everything it causes commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin import noise
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.config import TocsinConfig
from tocsin.notify import service as outbox


class Pipeline:
    """Built once per configuration (the worker rebuilds it on reload) and shared."""

    def __init__(self, config: TocsinConfig) -> None:
        self.config = config
        self._check_channels = {
            check.name: list(check.notify) for check in config.checks if check.notify is not None
        }
        self._all_channels = sorted(config.channels)

    def channels_for(self, alert: Alert) -> list[str]:
        """The check's `notify`, else every channel."""
        if alert.check_name is not None and alert.check_name in self._check_channels:
            return self._check_channels[alert.check_name]
        return self._all_channels

    def dispatch(
        self, session: Session, alert: Alert, events: Sequence[AlertEvent], now: datetime
    ) -> None:
        for event in events:
            verdict = noise.screen(session, self.config, alert, event, now)
            if verdict.suppressed:
                continue
            channels = list(verdict.channels or self.channels_for(alert))
            if verdict.grouped and self.config.grouping is not None:
                noise.hold_in_group(session, self.config.grouping, alert, event, channels, now)
            else:
                outbox.enqueue(session, alert, [event], channels, now)
