"""What routes share: the app's settings, running store work off the event loop in one
transaction, and authentication with scopes and the rate limit (`Annotated` aliases)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, Security
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tocsin.clock import Clock
from tocsin.config.heartbeats import HeartbeatConfig
from tocsin.config.model import TocsinConfig
from tocsin.db import read_scope, session_scope
from tocsin.heartbeats.service import PingHistory
from tocsin.inbound.ends import FLUSH_EVERY, PendingEnds
from tocsin.inbound.repeats import Repeats
from tocsin.pipeline import Pipeline
from tocsin.tokens import service as auth
from tocsin.web.group_commit import GroupCommit
from tocsin.web.limits import RateLimiter, retry_after

T = TypeVar("T")
# A revoked token stops working on every instance within this long: each keeps what it looked
# up for at most this, then asks the store again (one indexed read per token per second).
TOKEN_CACHE_SECONDS = 1.0


@dataclass
class Settings:
    """What `create_app` needs: the configuration, the store and the clock. (Notifications an
    API call causes need no nudge: committing their outbox rows rings the sender's doorbell.)"""

    config: TocsinConfig
    factory: sessionmaker[Session]
    clock: Clock
    started_at: datetime = field(init=False)
    group: GroupCommit = field(init=False)
    pipeline: Pipeline = field(init=False)
    beats: dict[str, HeartbeatConfig] = field(init=False)
    limiter: RateLimiter = field(init=False)
    history: PingHistory = field(init=False)
    repeats: Repeats = field(init=False)
    # The status page's answers and the store version each was made at (web.status_cache).
    status_cache: dict[str, tuple[Any, Any]] = field(init=False, default_factory=dict)
    # How often the API writes the later ends it answered (tests set it long, and flush).
    flush_every: timedelta = FLUSH_EVERY

    def __post_init__(self) -> None:
        self.started_at = self.clock.now()
        self.group = GroupCommit(self.factory)
        self.repeats = Repeats(self.factory.kw["bind"], PendingEnds())
        self.use(self.config)

    def use(self, config: TocsinConfig) -> None:
        """Swap in a new configuration (SIGHUP); in-flight requests keep the old one."""
        self.config = config
        self.pipeline = Pipeline(config)
        self.beats = {beat.name: beat for beat in config.heartbeats}
        self.limiter = RateLimiter(config.api.rate_limit, config.api.rate_burst)
        self.history = PingHistory(config.api.keep_pings)


def settings_of(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


async def _settings(request: Request) -> Settings:
    # async: FastAPI runs a plain `def` dependency on a worker thread, a hop per request.
    return settings_of(request)


AppSettings = Annotated[Settings, Depends(_settings)]


async def in_transaction(settings: Settings, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction on a worker thread (the store's drivers block; on
    SQLite the threads queue for its one writer in `tocsin.db`)."""
    return await _on_thread(session_scope, settings, work)


async def read_only(settings: Settings, work: Callable[[Session], T]) -> T:
    """Run `work` in a transaction that only reads (`tocsin.db.read_scope`: on SQLite it does
    not queue behind the writer) on a worker thread."""
    return await _on_thread(read_scope, settings, work)


async def _on_thread(
    scope: Callable[[sessionmaker[Session]], AbstractContextManager[Session]],
    settings: Settings,
    work: Callable[[Session], T],
) -> T:
    def run() -> T:
        with scope(settings.factory) as session:
            return work(session)

    return await run_in_threadpool(run)


async def committed(settings: Settings, work: Callable[[Session], T]) -> T:
    """Run `work` on the group-commit writer (`tocsin.web.group_commit`): its transaction may be
    shared with other requests' writes, and it returns once that transaction committed. For
    the hot write paths; `work` must not commit, and its failure undoes only its own part."""
    return await settings.group.run(work)


class TokenCache:
    """Recently seen tokens, so a busy sender costs one lookup every few seconds."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[auth.Principal | None, float]] = {}

    async def principal(self, settings: Settings, token: str) -> auth.Principal | None:
        key = auth.digest(token)
        hit = self._seen.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        found = await in_transaction(settings, lambda s: auth.authenticate(s, token))
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[key] = (found, time.monotonic() + TOKEN_CACHE_SECONDS)
        return found


def error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> HTTPException:
    return HTTPException(status, {"error": code, "message": message}, headers=headers)


async def authorize(request: Request, token: str | None, scope: str) -> auth.Principal:
    """The principal for `token`, or 401/403/429 with a JSON body saying why."""
    settings = settings_of(request)
    if token is None:
        raise error(
            401,
            "unauthorized",
            "send a token: Authorization: Bearer <token> (tocsin token create)",
            {"WWW-Authenticate": "Bearer"},
        )
    cache: TokenCache = request.app.state.tokens
    principal = await cache.principal(settings, token)
    if principal is None:
        raise error(
            401, "unauthorized", "the token is unknown or revoked", {"WWW-Authenticate": "Bearer"}
        )
    if not principal.allows(scope):
        have = ", ".join(sorted(principal.scopes))
        raise error(
            403, "forbidden", f"token {principal.name!r} has scopes {have}; this needs {scope}"
        )
    wait = settings.limiter.take(principal.name)
    if wait:
        raise error(
            429,
            "rate_limited",
            f"token {principal.name!r} is over {settings.config.api.rate_limit:g} requests/s",
            {"Retry-After": retry_after(wait)},
        )
    return principal


class TokenScheme(SecurityBase):
    """The API token, for the OpenAPI document's `bearer` scheme: `Authorization: Bearer
    TOKEN`, or Basic auth's password for clients that only take a URL (amtool)."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            description="A token from `tocsin token create NAME --scope …` (ingest, read, "
            "write, admin). Each operation names the scope it needs: `write` implies `read`, "
            "`admin` implies every scope. Basic auth's password is read as the token too."
        )
        self.scheme_name = "bearer"

    async def __call__(self, request: Request) -> str | None:
        return auth.from_header(request.headers.get("authorization"))


TOKEN = TokenScheme()


def require(scope: str) -> Any:
    """The principal of a token with `scope`; declared in the OpenAPI document as the
    `bearer` scheme with that scope."""

    # The scheme as a default, not in Annotated[]: these annotations are strings, and one
    # naming `scope` could not be resolved outside this function.
    async def dependency(
        request: Request, token: str | None = Security(TOKEN, scopes=[scope])
    ) -> auth.Principal:
        return await authorize(request, token, scope)

    return Depends(dependency)


Ingest = Annotated[auth.Principal, require("ingest")]
Reader = Annotated[auth.Principal, require("read")]
Writer = Annotated[auth.Principal, require("write")]


async def _known_query(request: Request) -> None:
    """A query parameter the operation does not take is a 400 naming it, never ignored: a
    misspelt `?stat=firing` would otherwise list every alert."""
    route = request.scope.get("route")
    takes = _query_names(route)
    unknown = sorted(set(request.query_params) - takes)
    if unknown:
        accepted = ", ".join(sorted(takes)) or "none"
        problems = [f"query.{name}: not a parameter of this operation" for name in unknown]
        raise HTTPException(
            400,
            {
                "error": "bad_request",
                "message": f"unknown query parameter {', '.join(map(repr, unknown))} "
                f"(this operation takes: {accepted})",
                "problems": problems,
            },
        )


def _query_names(route: Any) -> frozenset[str]:
    """The query parameters `route` and its dependencies declare (cached on the route)."""
    known: frozenset[str] | None = getattr(route, "tocsin_query", None)
    if known is None:
        names: set[str] = set()
        stack = [route.dependant] if route is not None else []
        while stack:
            dependant = stack.pop()
            names.update(p.alias for p in dependant.query_params)
            stack.extend(dependant.dependencies)
        known = frozenset(names)
        if route is not None:
            route.tocsin_query = known
    return known


KnownQuery = Depends(_known_query)  # the operator API's routers: `dependencies=[KnownQuery]`
