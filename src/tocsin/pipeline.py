"""What happens after an alert changes: the one path from a transition to its notifications.

DESIGN's order is maintenance → known issue → silence → inhibition → grouping → routing →
escalation → outbox. Every decision is a row written in the caller's transaction, so a
transition and everything it causes commit together or not at all.

- first, noise control (`noise.screen`): a suppressed event is recorded on the timeline and
  sent nowhere; a grouped one waits for its group's flush (grouped alerts do not escalate one
  by one: the group's flushes and reminders are their re-notification).
- fired: the routes' channels are told at once (digest routes park a row for the daily
  digest) and each route's escalation policy is copied onto the alert, its steps written as
  due rows; a step due at once fires in the same transaction (`escalation.steps`).
- severity changed: those already told and the new routes' channels hear of it; policies of
  the new routes start if they were not running (a WARNING that becomes CRITICAL pages).
- acknowledged: the escalation stops at once; everyone told so far hears it.
- resolved: the escalation stops; everyone told so far hears it, and nobody else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin import acklinks, noise
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.alerts.service import Change
from tocsin.config import TocsinConfig
from tocsin.escalation.steps import Escalator
from tocsin.outbox import digest as digests
from tocsin.outbox import service as outbox
from tocsin.routing import Router, match_labels, merge


class Pipeline:
    """Built once per configuration (the worker rebuilds it on reload) and shared."""

    def __init__(self, config: TocsinConfig) -> None:
        self.config = config
        self.router = Router(config)
        self._check_channels = {
            check.name: list(check.notify) for check in config.checks if check.notify is not None
        }
        self.escalator = Escalator(config, self.router)

    # --- routing ------------------------------------------------------------------------

    def route(self, alert: Alert) -> tuple[list[str], list[str], list[str]]:
        """(channels now, digest channels, escalation policies). A check's own `notify`
        replaces the routes' channels (it is the most specific thing the user wrote)."""
        labels = match_labels(alert.labels, alert.severity, alert.check_name, alert.origin)
        now, digest, policies = merge(self.router.route(labels))
        if alert.check_name is not None and alert.check_name in self._check_channels:
            now, digest = self._check_channels[alert.check_name], []
        return now, digest, policies

    # --- transitions --------------------------------------------------------------------

    def dispatch(self, session: Session, changes: Sequence[Change], now: datetime) -> None:
        """Notify each change in turn (`actions.alerts` calls this for every transition). A
        batch of fired events of distinct alerts (an inbound request's new alerts) costs a
        bounded number of queries rather than several per alert, with the same decisions and
        rows: noise control reads once for the batch (`noise.Screening`), nothing is flushed
        until the end, the acknowledge links' key is read once and the notifications are
        written in one statement."""
        if len(changes) > 1 and noise.batchable(changes):
            self._dispatch_batch(session, changes, now)
            return
        for alert, event in changes:
            verdict = noise.screen(session, self.config, alert, event, now)
            if self._held(session, alert, event, verdict, now):
                continue
            if event.kind == "fired":
                self._fired(session, alert, event, now, _Enqueuer(self, session, now))
            elif event.kind == "severity_changed":
                self._severity_changed(session, alert, event, now)
            elif event.kind in ("acknowledged", "resolved"):
                self._closed(session, alert, event, now)

    def _dispatch_batch(self, session: Session, batch: Sequence[Change], now: datetime) -> None:
        out = _Enqueuer(self, session, now, batched=True)
        with session.no_autoflush:
            screening = noise.Screening(session, self.config, batch)
            for alert, event in batch:
                verdict = screening.screen(alert, event, now)
                if not self._held(session, alert, event, verdict, now):
                    self._fired(session, alert, event, now, out)
            screening.finish()
            out.write()
        session.flush()

    def send(
        self,
        session: Session,
        changes: Sequence[Change],
        deliveries: Sequence[outbox.Delivery],
        now: datetime,
    ) -> None:
        """Notify changes straight to these deliveries, unscreened and unrouted (Tocsin's own
        alerts: a channel failing for good is told on the fallback channels)."""
        for alert, event in changes:
            outbox.enqueue(session, alert, event, deliveries, now)

    def _held(
        self,
        session: Session,
        alert: Alert,
        event: AlertEvent,
        verdict: noise.Verdict,
        now: datetime,
    ) -> bool:
        """A suppressed or grouped event goes no further (a grouped one waits in its group);
        returns whether the verdict held it."""
        if not (verdict.suppressed or verdict.grouped):
            return False
        if event.kind in ("acknowledged", "resolved"):
            self.escalator.stop(session, alert, now, event.kind)
        if verdict.grouped and self.config.grouping is not None:
            channels = self.route(alert)[0]
            noise.hold_in_group(session, self.config.grouping, alert, event, channels, now)
        return True

    def _fired(
        self, session: Session, alert: Alert, event: AlertEvent, now: datetime, out: _Enqueuer
    ) -> None:
        channels, digest, policies = self.route(alert)
        told = self.router.deliveries(channels)
        out.enqueue(alert, event, told, extra=out.links(alert))
        if digest:
            at = digests.next_at(self.config.notifications, now)
            out.enqueue(alert, event, self.router.deliveries(digest), digest_at=at)
        self.escalator.start(session, alert, policies, now, told)

    def _severity_changed(
        self, session: Session, alert: Alert, event: AlertEvent, now: datetime
    ) -> None:
        """Those told so far and the new routes hear of it. Escalations of policies the new
        severity no longer routes to stop (a CRITICAL that drops to HIGH stops phoning);
        the new policies start if they were not running."""
        channels, _digest, policies = self.route(alert)
        told = outbox.told(session, alert.id)
        targets = list(dict.fromkeys([*told, *self.router.deliveries(channels)]))
        outbox.enqueue(
            session,
            alert,
            event,
            targets,
            now,
            extra=acklinks.fields(session, self.config, alert, now),
        )
        self.escalator.stop(
            session, alert, now, f"severity changed to {alert.severity}", keep=policies
        )
        if alert.state == "firing":
            self.escalator.start(session, alert, policies, now, targets)

    def _closed(self, session: Session, alert: Alert, event: AlertEvent, now: datetime) -> None:
        self.escalator.stop(session, alert, now, event.kind)
        outbox.enqueue(session, alert, event, outbox.told(session, alert.id), now)

    # --- what noise control finds due ---------------------------------------------------

    def mute_due(self, session: Session, now: datetime) -> int:
        """Mute the firing alerts a silence, window, known issue or inhibiting alert has
        begun to match (`noise.mute_due`) and pause their escalations: a muted alert pages
        nobody. Returns the work done."""
        muted = noise.mute_due(session, self.config, now)
        for alert, reason in muted.alerts:
            self.escalator.pause(session, alert, now, reason)
        return muted.work

    def release_due(self, session: Session, now: datetime) -> int:
        """Muted alerts whose reason may have ended (`noise.recheck_muted`): each held event
        goes through this path again, so an alert still firing is told again and its
        escalations start over, and one still muted stays quiet. Returns the work done."""
        released = noise.recheck_muted(session, now)
        for change in released.held:
            self.dispatch(session, [change], now)  # one by one, as each was held
        return released.settled + len(released.held)

    def warn_expiring(self, session: Session, now: datetime) -> int:
        """Tell the creator of each silence about to end (`noise.expiring`), on the channels
        that reach a configured user (else the console channels). Returns how many."""
        silences = noise.expiring(session, now)
        for silence in silences:
            creator = []
            if silence.created_by in self.config.users:
                creator = self.escalator.people(session, f"user:{silence.created_by}", None, now)
            noise.tell_creator(session, self.config, silence, now, creator)
        return len(silences)


class _Enqueuer:
    """Where fired alerts' notifications go: added to the session as they come, or,
    `batched`, collected and written in one statement by `write` (a batch of changes). The
    acknowledge links' signing key is read once per enqueuer."""

    def __init__(
        self, pipeline: Pipeline, session: Session, now: datetime, *, batched: bool = False
    ) -> None:
        self.pipeline, self.session, self.now, self.batched = pipeline, session, now, batched
        self.rows: list[dict[str, Any]] = []
        self._key: bytes | None = None

    def links(self, alert: Alert) -> dict[str, Any]:
        if alert.state == "firing" and self._key is None:
            self._key = acklinks.secret(self.session, self.pipeline.config, self.now)
        return acklinks.fields(self.session, self.pipeline.config, alert, self.now, self._key)

    def enqueue(
        self,
        alert: Alert,
        event: AlertEvent,
        deliveries: Sequence[outbox.Delivery],
        *,
        extra: dict[str, Any] | None = None,
        digest_at: datetime | None = None,
    ) -> None:
        if not self.batched:
            outbox.enqueue(
                self.session, alert, event, deliveries, self.now, extra=extra, digest_at=digest_at
            )
            return
        self.rows += outbox.rows_for(
            alert, event, deliveries, self.now, extra=extra, digest_at=digest_at
        )

    def write(self) -> None:
        outbox.insert(self.session, self.rows)
        self.rows = []
