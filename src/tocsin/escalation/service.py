"""Escalations in the store: start one (copying the policy), find due steps, mark them,
schedule repeats, stop them. Firing a step, and whom it reaches, is `steps`'."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tocsin import claims
from tocsin.config import EscalationPolicyConfig
from tocsin.escalation.models import Escalation, EscalationStep


def spec_of(policy: EscalationPolicyConfig) -> dict[str, Any]:
    """The policy as plain data, stored on the escalation."""
    return {
        "steps": [
            {"after": step.after.total_seconds(), "notify": list(step.notify), "via": step.via}
            for step in policy.steps
        ],
        "repeat": policy.repeat.total_seconds() if policy.repeat is not None else None,
        "repeat_limit": policy.repeat_limit,
    }


def start(
    session: Session, alert_id: int, name: str, policy: EscalationPolicyConfig, now: datetime
) -> list[EscalationStep]:
    """Copy the policy onto the alert and write every step's due row. Starting a policy that
    already runs (or ran) for this alert does nothing (returns no steps), unless it was
    paused: then it begins again from its first step, copied from the policy as it is now
    (the paused copy and its step rows make way; the alert's timeline keeps what they did)."""
    existing = session.execute(
        select(Escalation.id, Escalation.state).where(
            Escalation.alert_id == alert_id, Escalation.policy == name
        )
    ).first()
    if existing is not None:
        if existing.state != "paused":
            return []
        session.execute(delete(EscalationStep).where(EscalationStep.escalation_id == existing.id))
        session.execute(delete(Escalation).where(Escalation.id == existing.id))
    spec = spec_of(policy)
    escalation = Escalation(
        alert_id=alert_id, policy=name, spec=spec, state="active", started_at=now
    )
    session.add(escalation)
    session.flush()
    steps = [
        EscalationStep(
            escalation_id=escalation.id,
            alert_id=alert_id,
            step=i,
            repeat=0,
            due_at=now + timedelta(seconds=step["after"]),
            state="pending",
        )
        for i, step in enumerate(spec["steps"])
    ]
    session.add_all(steps)
    session.flush()
    return steps


def due(session: Session, now: datetime, limit: int = 100) -> Sequence[EscalationStep]:
    """Pending steps whose time has come, oldest first. On PostgreSQL the rows stay locked
    (SKIP LOCKED) until the caller commits, so two workers never fire one step."""
    return claims.due(
        session,
        select(EscalationStep)
        .where(EscalationStep.state == "pending", EscalationStep.due_at <= now)
        .order_by(EscalationStep.due_at, EscalationStep.id)
        .limit(limit),
    )


def settle_many(session: Session, step_ids: Collection[int], state: str, now: datetime) -> set[int]:
    """pending → fired | cancelled for a batch of steps, as one compare-and-set; returns the
    ids this call moved (the others were settled by someone else first)."""
    return claims.take_many(
        session,
        EscalationStep,
        EscalationStep.id,
        step_ids,
        expect=[EscalationStep.state == "pending"],
        values={"state": state, "fired_at": now if state == "fired" else None},
    )


def by_id(session: Session, escalation_ids: Collection[int]) -> dict[int, Escalation]:
    """Escalations of a batch of steps, in one query."""
    rows = session.scalars(select(Escalation).where(Escalation.id.in_(escalation_ids)))
    return {row.id: row for row in rows}


def schedule_repeat(
    session: Session, escalation: Escalation, step: EscalationStep, now: datetime
) -> EscalationStep | None:
    """After the last step fires, re-run it every `repeat` until acknowledged (at most
    `repeat_limit` times)."""
    spec = escalation.spec
    last = len(spec["steps"]) - 1
    if spec.get("repeat") is None or step.step != last or step.repeat >= spec["repeat_limit"]:
        return None
    follow = EscalationStep(
        escalation_id=escalation.id,
        alert_id=escalation.alert_id,
        step=last,
        repeat=step.repeat + 1,
        due_at=step.due_at + timedelta(seconds=spec["repeat"]),
        state="pending",
    )
    session.add(follow)
    return follow


def stop(
    session: Session,
    alert_id: int,
    now: datetime,
    reason: str,
    keep: Sequence[str] = (),
    *,
    pause: bool = False,
) -> int:
    """Cancel the pending steps of the alert's escalations, except those of the policies in
    `keep`; returns how many steps were pending. With `pause` only running ones stop, as
    `paused` (a muted alert pages nobody; `start` begins them again when it is released);
    otherwise paused ones stop for good too."""
    stopping = select(Escalation.id).where(
        Escalation.alert_id == alert_id,
        Escalation.state.in_(("active",) if pause else ("active", "paused")),
        Escalation.policy.not_in(keep),
    )
    result = session.execute(
        update(EscalationStep)
        .where(
            EscalationStep.alert_id == alert_id,
            EscalationStep.state == "pending",
            EscalationStep.escalation_id.in_(stopping),
        )
        .values(state="cancelled")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Escalation)
        .where(Escalation.id.in_(stopping.scalar_subquery()))
        .values(state="paused" if pause else "stopped", stopped_at=now, stopped_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def for_alert(session: Session, alert_id: int) -> Sequence[EscalationStep]:
    return session.scalars(
        select(EscalationStep)
        .where(EscalationStep.alert_id == alert_id)
        .order_by(EscalationStep.due_at, EscalationStep.id)
    ).all()
