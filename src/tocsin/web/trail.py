"""The audit rows of actions taken through the API and through acknowledge links: who (the
token's name, or the name typed on the link's page), what, from which address, recorded by
the route in the transaction that made the change so both commit or neither does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tocsin.console import audit


@dataclass(frozen=True)
class Trail:
    """Where a request came from; `record` writes its audit row."""

    address: str | None

    def record(
        self,
        session: Session,
        actor: str,
        action: str,
        now: datetime,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        *,
        interface: audit.Interface = "api",
    ) -> None:
        audit.record(
            session,
            actor=actor,
            action=action,
            interface=interface,
            now=now,
            target=target,
            address=self.address,
            detail=detail,
        )


def _trail(request: Request) -> Trail:
    return Trail(request.client.host if request.client else None)


ApiTrail = Annotated[Trail, Depends(_trail)]
