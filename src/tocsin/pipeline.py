"""What happens after an alert changes: the one path from a transition to its notifications.

DESIGN's order is maintenance → known issue → silence → inhibition → grouping → routing →
escalation → outbox. Every decision is a row written in the caller's transaction, so a
transition and everything it causes commit together or not at all.

- first, noise control (`noise.screen`): a suppressed event is recorded on the timeline and
  sent nowhere; a grouped one waits for its group's flush (grouped alerts do not escalate one
  by one: the group's flushes and reminders are their re-notification).
- fired: the routes' channels are told at once (digest routes park a row for the daily
  digest) and each route's escalation policy is copied onto the alert, its steps written as
  due rows; a step due at once fires in the same transaction.
- severity changed: those already told and the new routes' channels hear of it; policies of
  the new routes start if they were not running (a WARNING that becomes CRITICAL pages).
- acknowledged: the escalation stops at once; everyone told so far hears it.
- resolved: the escalation stops; everyone told so far hears it, and nobody else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin import acklinks, noise
from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.alerts.service import Change
from tocsin.config import TocsinConfig
from tocsin.escalation import service as escalations
from tocsin.escalation.models import Escalation, EscalationStep
from tocsin.oncall import service as oncall
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
        self._personal = [name for name, spec in config.channels.items() if spec.reaches_a_person()]
        self._targets = {name: spec.targets() for name, spec in config.channels.items()}

    # --- routing ------------------------------------------------------------------------

    def route(self, alert: Alert) -> tuple[list[str], list[str], list[str]]:
        """(channels now, digest channels, escalation policies). A check's own `notify`
        replaces the routes' channels (it is the most specific thing the user wrote)."""
        labels = match_labels(alert.labels, alert.severity, alert.check_name, alert.origin)
        now, digest, policies = merge(self.router.route(labels))
        if alert.check_name is not None and alert.check_name in self._check_channels:
            now, digest = self._check_channels[alert.check_name], []
        return now, digest, policies

    def deliveries(self, channels: Sequence[str]) -> list[outbox.Delivery]:
        """One delivery per channel target (one per number for SMS and voice), so a retry to
        one failing target never repeats the others."""
        return [
            (channel, target)
            for channel in channels
            for target in self._targets.get(channel, [None])
        ]

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
            self._stop(session, alert, now, event.kind)
        if verdict.grouped and self.config.grouping is not None:
            channels = self.route(alert)[0]
            noise.hold_in_group(session, self.config.grouping, alert, event, channels, now)
        return True

    def _fired(
        self, session: Session, alert: Alert, event: AlertEvent, now: datetime, out: _Enqueuer
    ) -> None:
        channels, digest, policies = self.route(alert)
        told = self.deliveries(channels)
        out.enqueue(alert, event, told, extra=out.links(alert))
        if digest:
            at = digests.next_at(self.config.notifications, now)
            out.enqueue(alert, event, self.deliveries(digest), digest_at=at)
        self._escalate(session, alert, policies, now, told)

    def _severity_changed(
        self, session: Session, alert: Alert, event: AlertEvent, now: datetime
    ) -> None:
        """Those told so far and the new routes hear of it. Escalations of policies the new
        severity no longer routes to stop (a CRITICAL that drops to HIGH stops phoning);
        the new policies start if they were not running."""
        channels, _digest, policies = self.route(alert)
        targets = _union(outbox.told(session, alert.id), self.deliveries(channels))
        outbox.enqueue(session, alert, event, targets, now, extra=self.links(session, alert, now))
        self._stop(session, alert, now, f"severity changed to {alert.severity}", keep=policies)
        if alert.state == "firing":
            self._escalate(session, alert, policies, now, targets)

    def _closed(self, session: Session, alert: Alert, event: AlertEvent, now: datetime) -> None:
        self._stop(session, alert, now, event.kind)
        outbox.enqueue(session, alert, event, outbox.told(session, alert.id), now)

    def _stop(
        self, session: Session, alert: Alert, now: datetime, reason: str, keep: Sequence[str] = ()
    ) -> None:
        stopped = escalations.stop(session, alert.id, now, reason, keep)
        if stopped:
            alerts.add_event(
                session,
                alert,
                "escalation_stopped",
                now,
                note=f"{reason}: {stopped} pending step(s) cancelled",
            )

    def pause_escalation(self, session: Session, alert: Alert, now: datetime, reason: str) -> None:
        """An alert muted while it fires pages nobody: its escalations pause (pending steps
        cancelled). Released still firing, its held event comes back through `dispatch`,
        whose `fired` starts them again from the first step."""
        paused = escalations.stop(session, alert.id, now, reason, pause=True)
        if paused:
            alerts.add_event(
                session,
                alert,
                "escalation_paused",
                now,
                note=f"{reason}: {paused} pending step(s) cancelled until it is released",
            )

    def links(
        self, session: Session, alert: Alert, now: datetime, key: bytes | None = None
    ) -> dict[str, Any]:
        """A signed acknowledge link for a firing alert, valid for `api.ack_link_ttl`
        (`key`: the signing key, when the caller has read it already)."""
        if alert.state != "firing":
            return {}
        key = key or acklinks.secret(session, self.config, now)
        return {"ack_url": acklinks.url(self.config, key, alert.id, now)}

    # --- escalation ---------------------------------------------------------------------

    def _escalate(
        self,
        session: Session,
        alert: Alert,
        policies: list[str],
        now: datetime,
        told: list[outbox.Delivery],
    ) -> None:
        """Start the policies; steps due at once fire now, except to those this very
        transition already told (the route and step 1 naming one channel page once)."""
        for name in policies:
            policy = self.config.escalation_policies.get(name)
            if policy is None:  # the config changed under a route; nothing to copy
                continue
            steps = escalations.start(session, alert.id, name, policy, now)
            for step in steps:
                if step.due_at <= now:
                    self.fire_step(session, step, now, skip=told)

    def fire_due_steps(self, session: Session, now: datetime, limit: int = 100) -> int:
        """The worker's step: fire every due escalation step, each once. A batch reads its
        alerts and escalations in one query each and settles its steps in one
        compare-and-set per outcome, rather than three round trips per step (10,000
        escalating alerts need that: bench/escalation.py)."""
        steps = escalations.due(session, now, limit)
        if not steps:
            return 0
        by_alert = _alerts_by_id(session, {step.alert_id for step in steps})
        by_escalation = escalations.by_id(session, {step.escalation_id for step in steps})
        return self._fire(session, steps, by_alert, by_escalation, now)

    def fire_step(
        self,
        session: Session,
        step: EscalationStep,
        now: datetime,
        skip: Sequence[outbox.Delivery] = (),
    ) -> int:
        """Fire one due step if its alert is still unacknowledged; else cancel it. `skip`:
        deliveries the calling transition already made (the route and step 1 naming one
        channel page once)."""
        alert = session.get(Alert, step.alert_id)
        escalation = session.get(Escalation, step.escalation_id)
        by_alert = {alert.id: alert} if alert is not None else {}
        by_escalation = {escalation.id: escalation} if escalation is not None else {}
        return self._fire(session, [step], by_alert, by_escalation, now, skip)

    def _fire(
        self,
        session: Session,
        steps: Sequence[EscalationStep],
        by_alert: dict[int, Alert],
        by_escalation: dict[int, Escalation],
        now: datetime,
        skip: Sequence[outbox.Delivery] = (),
    ) -> int:
        """Fire the steps whose alert is still firing, cancel the others; a step someone
        else settled first is left alone. Returns how many fired."""
        live: list[tuple[EscalationStep, Alert, Escalation]] = []
        dead: list[int] = []
        for step in steps:
            alert, escalation = by_alert.get(step.alert_id), by_escalation.get(step.escalation_id)
            if alert is None or escalation is None:  # deleted under us: nothing to do
                continue
            if alert.state == "firing" and escalation.state == "active":
                live.append((step, alert, escalation))
            else:
                dead.append(step.id)
        escalations.settle_many(session, dead, "cancelled", now)
        won = escalations.settle_many(session, [step.id for step, _, _ in live], "fired", now)
        fired = [
            self._step_entry(session, step, alert, escalation, now, skip)
            for step, alert, escalation in live
            if step.id in won
        ]
        self._write_fired(session, fired, now)
        return len(fired)

    def _write_fired(self, session: Session, fired: list[_Fired], now: datetime) -> None:
        """The fired steps' timeline entries, notifications and next repeats."""
        session.add_all(entry.event for entry in fired)
        session.flush()  # once for the batch: the notifications carry the events' ids
        for entry in fired:
            extra: dict[str, Any] = {
                **self.links(session, entry.alert, now),
                "escalation": {
                    "policy": entry.escalation.policy,
                    "step": entry.step.step + 1,
                    "steps": len(entry.escalation.spec["steps"]),
                    "repeat": entry.step.repeat,
                },
            }
            outbox.enqueue(
                session, entry.alert, entry.event, entry.deliveries, now, kind="fired", extra=extra
            )
            escalations.schedule_repeat(session, entry.escalation, entry.step, now)

    def _step_entry(
        self,
        session: Session,
        step: EscalationStep,
        alert: Alert,
        escalation: Escalation,
        now: datetime,
        skip: Sequence[outbox.Delivery] = (),
    ) -> _Fired:
        """Whom a step that just fired reaches, and its timeline entry (not yet flushed)."""
        spec = escalation.spec["steps"][step.step]
        deliveries, unreached = self.step_deliveries(session, spec, now)
        already = [d for d in deliveries if d in skip]
        deliveries = [d for d in deliveries if d not in skip]
        where = ", ".join(f"{c} → {t}" if t else c for c, t in deliveries) or "nobody new"
        note = f"step {step.step + 1} of {escalation.policy}"
        if step.repeat:
            note += f" (repeat {step.repeat})"
        note += f": {where}"
        if already:
            note += f" (already told: {', '.join(c for c, _ in already)})"
        if unreached:
            note += f"; not reachable: {', '.join(unreached)}"
        # alerts.add_event flushes each entry; a batch of steps is flushed once instead.
        event = alerts.new_event(
            alert,
            "escalation_step",
            now,
            state_from=alert.state,
            note=note,
            data={
                "policy": escalation.policy,
                "step": step.step,
                "repeat": step.repeat,
                "due_at": step.due_at.isoformat(),
                "late_seconds": (now - step.due_at).total_seconds(),
                "deliveries": [list(d) for d in deliveries],
                "already_told": [list(d) for d in already],
                "unreached": unreached,
            },
        )
        return _Fired(step, alert, escalation, deliveries, event)

    def step_deliveries(
        self, session: Session, spec: dict[str, Any], now: datetime
    ) -> tuple[list[outbox.Delivery], list[str]]:
        """Channel targets as they are; users and schedules through on-call, on the step's
        `via` channels. Returns the deliveries and the targets nobody could be found for."""
        deliveries: list[outbox.Delivery] = []
        unreached: list[str] = []
        for target in spec["notify"]:
            if ":" not in target:
                deliveries.extend(self.deliveries([target]))
                continue
            found = self.people(session, target, spec.get("via"), now)
            if not found:
                unreached.append(target)
            deliveries.extend(found)
        return _union([], deliveries), unreached

    def people(
        self, session: Session, target: str, via: list[str] | None, now: datetime
    ) -> list[outbox.Delivery]:
        """Deliveries reaching a user or whoever a schedule has on call at `now`, on the
        step's `via` channels (default: every channel that can address a person). A schedule
        with nobody on call falls through to its backup schedule."""
        found = oncall.resolve_targets(session, self.config, target, now)
        kind, _, rest = target.partition(":")
        if not found and kind == "schedule" and not rest.endswith(":backup"):
            spec = self.config.schedules.get(rest)
            if spec is not None and spec.backup is not None:
                found = oncall.resolve_targets(session, self.config, f"{target}:backup", now)
        names = via if via is not None else self._personal
        out: list[outbox.Delivery] = []
        for contact in found:
            for name in names:
                address = oncall.contacts_for_channel(contact, self.config.channels[name])
                if address:
                    out.append((name, address))
        return out


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
        return self.pipeline.links(self.session, alert, self.now, self._key)

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


@dataclass(frozen=True)
class _Fired:
    """A step that fired in this batch, with what it reaches and its timeline entry."""

    step: EscalationStep
    alert: Alert
    escalation: Escalation
    deliveries: list[outbox.Delivery]
    event: AlertEvent


def _alerts_by_id(session: Session, alert_ids: set[int]) -> dict[int, Alert]:
    return {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))}


def _union(first: list[outbox.Delivery], more: list[outbox.Delivery]) -> list[outbox.Delivery]:
    seen = dict.fromkeys(first)
    for delivery in more:
        seen.setdefault(delivery, None)
    return list(seen)
