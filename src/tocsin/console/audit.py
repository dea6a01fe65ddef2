"""The audit log: one row per operator action, sign-in and password change.

Callers (the console's routes, the CLI, the API) record in the transaction that made the
change, so an action and its row commit together or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.console.models import AuditEvent

Interface = Literal["console", "cli", "api", "link"]
LOGIN_FAILED = "login.failed"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    interface: Interface,
    now: datetime,
    target: str | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    row = AuditEvent(
        at=now,
        actor=actor[:100],
        action=action,
        target=None if target is None else target[:200],
        interface=interface,
        address=None if address is None else address[:64],
        detail=detail,
    )
    session.add(row)
    session.flush()
    return row


def list_(
    session: Session,
    *,
    limit: int = 100,
    before_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> Sequence[AuditEvent]:
    """Newest first; `before_id` continues after the last row shown."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return session.scalars(query).all()


def failed_logins(
    session: Session, user: str, address: str | None, since: datetime
) -> tuple[int, int]:
    """Failed sign-ins since `since`: as `user`, and from `address`."""

    def count(*where: Any) -> int:
        query = select(func.count()).select_from(AuditEvent)
        query = query.where(AuditEvent.action == LOGIN_FAILED, AuditEvent.at >= since, *where)
        return int(session.scalar(query) or 0)

    by_user = count(AuditEvent.actor == user[:100])
    by_address = count(AuditEvent.address == address) if address else 0
    return by_user, by_address


def as_json(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "interface": row.interface,
        "address": row.address,
        "detail": row.detail,
    }
