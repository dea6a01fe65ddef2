"""Domain errors mapped to HTTP in one place; every error body is JSON
`{"error": code, "message": text}` (plus `problems`, one per bad field, for bad input).

Under `/api/v2` (the Alertmanager-compatible API) the bodies are Alertmanager's instead: its
error responses are a bare JSON string (`"end time can't be in the past"`), which amtool and
other clients print, and its request validation answers go-openapi's `{"code", "message"}`
422. 401, 403, 413, 429 and 503 there are a JSON string too, with the same headers
(`WWW-Authenticate`, `Retry-After`), so a client written for Alertmanager reads every answer
the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.inbound.schemas import BadInput

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid",
    429: "rate_limited",
}


def body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": _CODES.get(status, "error"), "message": message, **extra}


def answer(
    request: Request, status: int, detail: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """`detail` as the JSON body, or under `/api/v2` its message as a bare JSON string."""
    if request.url.path.startswith(V2):
        return JSONResponse(str(detail.get("message", "")), status, headers=headers)
    return JSONResponse(detail, status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = (
            exc.detail if isinstance(exc.detail, dict) else body(exc.status_code, str(exc.detail))
        )
        return answer(request, exc.status_code, detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if request.url.path.startswith(V2):
            return am_validation(exc)
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        status = validation_status(request.url.path)
        return JSONResponse(body(status, "; ".join(problems), problems=problems), status)

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> JSONResponse:
        return answer(request, 400, body(400, str(exc), problems=exc.problems))

    @app.exception_handler(Invalid)
    async def invalid(request: Request, exc: Invalid) -> JSONResponse:
        return answer(request, 400, body(400, str(exc)))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return answer(request, 404, body(404, str(exc)))

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> JSONResponse:
        return answer(request, 409, body(409, str(exc)))

    @app.exception_handler(OperationalError)
    async def store_down(request: Request, _exc: OperationalError) -> JSONResponse:
        return unavailable(request.url.path)


V1 = "/api/v1/"
V2 = "/api/v2/"
# go-openapi's codes, which Alertmanager's API answers in its 422 bodies.
_AM_CODES = {"missing": 602, "too_short": 612}  # else 601, an invalid type or format


def am_validation(exc: RequestValidationError) -> JSONResponse:
    """A request Alertmanager's API would refuse before its handler, refused in its shape:
    422 with `{"code": 6xx, "message": "where: what; …"}`, as go-openapi answers there."""
    errors = exc.errors()
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors]
    code = _AM_CODES.get(str(errors[0]["type"]), 601) if errors else 601
    return JSONResponse({"code": code, "message": "; ".join(problems)}, 422)


def validation_status(path: str) -> int:
    """Under `/api/v1` every bad input is a 400, whoever finds it: the inbound formats there
    (Alertmanager's webhook, the plain events) answer 400 as Alertmanager and PagerDuty do,
    and their senders expect it, so the operator API's body and parameter validation says
    400 too rather than FastAPI's 422. Elsewhere (pings, `/api/v2`) the answers are as their
    clients know them."""
    return 400 if path.startswith(V1) else 422


def unavailable(path: str = "") -> JSONResponse:
    """The store could not be reached: nothing was stored; the sender should retry, as it
    would for an Alertmanager."""
    message = "the store is unavailable; retry later"
    content: Any = message if path.startswith(V2) else body(503, message)
    return JSONResponse(content, 503, headers={"Retry-After": "5"})
