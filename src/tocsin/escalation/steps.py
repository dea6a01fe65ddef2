"""Escalation for one configuration: start an alert's policies, fire the steps that come
due (whom each reaches: channels as they are, users and schedules through on-call), stop or
pause them. The rows are `escalation.service`'s; each decision here is a row written in the
caller's transaction, with the alert's timeline entry and the step's notifications."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin import acklinks
from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.config.model import TocsinConfig
from tocsin.escalation import service as escalations
from tocsin.escalation.models import Escalation, EscalationStep
from tocsin.oncall import service as oncall
from tocsin.outbox import service as outbox
from tocsin.routing import Router


class Escalator:
    """Built once per configuration, with the pipeline that starts and stops escalations."""

    def __init__(self, config: TocsinConfig, router: Router) -> None:
        self.config, self.router = config, router
        self._personal = [name for name, spec in config.channels.items() if spec.reaches_a_person()]

    def start(
        self,
        session: Session,
        alert: Alert,
        policies: Sequence[str],
        now: datetime,
        told: Sequence[outbox.Delivery],
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
                    self._fire_step(session, step, now, skip=told)

    def stop(
        self, session: Session, alert: Alert, now: datetime, reason: str, keep: Sequence[str] = ()
    ) -> None:
        """Cancel the alert's pending steps (but those of the policies in `keep`), saying so
        on its timeline."""
        stopped = escalations.stop(session, alert.id, now, reason, keep)
        if stopped:
            alerts.add_event(
                session,
                alert,
                "escalation_stopped",
                now,
                note=f"{reason}: {stopped} pending step(s) cancelled",
            )

    def pause(self, session: Session, alert: Alert, now: datetime, reason: str) -> None:
        """An alert muted while it fires pages nobody: its escalations pause (pending steps
        cancelled). Released still firing, its held event comes back through the pipeline,
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

    def fire_due(self, session: Session, now: datetime, limit: int = 100) -> int:
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

    def _fire_step(
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
                **acklinks.fields(session, self.config, entry.alert, now),
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
                deliveries.extend(self.router.deliveries([target]))
                continue
            found = self.people(session, target, spec.get("via"), now)
            if not found:
                unreached.append(target)
            deliveries.extend(found)
        return list(dict.fromkeys(deliveries)), unreached

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
