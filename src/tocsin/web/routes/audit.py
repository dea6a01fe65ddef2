"""`GET /api/v1/audit`: the audit log, newest first, for tokens with the `admin` scope (the
console's admins read it at `/audit`); `tocsin --server URL audit list` reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tocsin.console import audit
from tocsin.tokens import service as auth
from tocsin.web.deps import AppSettings, KnownQuery, in_transaction, require
from tocsin.web.schemas import errors

router = APIRouter(prefix="/api/v1", tags=["operator"], dependencies=[KnownQuery])
Admin = Annotated[auth.Principal, require("admin")]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    interface: str
    address: str | None
    detail: dict[str, Any] | None


@router.get(
    "/audit",
    summary="Operator actions, sign-ins and password and token changes, newest first",
    response_model=list[AuditOut],
    responses=errors(400),
)
async def list_audit(
    settings: AppSettings,
    _who: Admin,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=50)] = None,
) -> list[dict[str, Any]]:
    return await in_transaction(
        settings,
        lambda s: [
            audit.as_json(r) for r in audit.list_(s, limit=limit, actor=actor, action=action)
        ],
    )
