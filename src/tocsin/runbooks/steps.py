"""Running one executable block, outside any transaction: `execute(plan, …)` gives a `Result`.

- `sql` blocks run through the named source. A read block goes through the checks' own
  `SqlSource` (read-only transaction, statement timeout, row cap); a write block, which only a
  source listed under `runbooks.writable_sources` may take (the caller checks that and the
  approval), runs in a transaction of its own that is committed, with the same timeout.
- `http` blocks go through the one outbound client (`tocsin.egress`): deadline, size cap,
  destination policy.
- `sh` blocks run only when `runbooks.shell.enabled`, each line a command whose first word is
  in `runbooks.shell.allow`: split into argv by shell rules *before* parameters are put in (so
  a value is one argument whatever it holds), never through a shell (a pipe or a redirection
  is refused), in a clean environment (PATH and LANG only), killed at the timeout.

The output is capped at OUTPUT_CAP bytes for storage (`capture`), with the SHA-256 of all of
it, and secrets redacted.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from tocsin import redact
from tocsin.checks.sources.sql import SqlSource
from tocsin.config.model import TocsinConfig
from tocsin.config.sources import SqlSourceConfig
from tocsin.egress import Egress, Transport, TransportError
from tocsin.errors import Invalid, SourceError
from tocsin.expressions import ExpressionError, evaluate
from tocsin.runbooks.blocks import Block, read_block
from tocsin.runbooks.shell import OUTPUT_CAP, Output, commands, run_command, substitute

HTTP_READ_CAP = 1024 * 1024  # an http step reads at most this much of the answer


@dataclass(frozen=True)
class Plan:
    """What to run: the block as copied into the run's row, and its parameter values."""

    info: str
    body: str
    line: int
    params: Mapping[str, Any]
    secrets: tuple[str, ...] = ()

    def block(self) -> Block:
        found, _ = read_block(self.info, self.body, self.line)
        if found is None:
            raise Invalid(f"line {self.line}: {self.info!r} is not an executable block")
        return found


@dataclass
class Result:
    state: str  # succeeded | failed | timed_out
    output: bytes = b""
    exit_status: int | None = None
    row_count: int | None = None
    error: str | None = None
    tests: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: int = 0
    full_size: int | None = None  # when the output was read in part (its size is known)
    full_sha256: str | None = None
    body: bytes | None = None  # http: the answer's body alone (the output has its status too)
    facts: dict[str, Any] = field(default_factory=dict)  # http: headers, response_time_ms


@dataclass(frozen=True)
class Captured:
    text: str
    size: int
    sha256: str
    truncated: bool


def capture(result: Result, secrets: tuple[str, ...] = ()) -> Captured:
    """The stored form of an output: at most OUTPUT_CAP bytes (cut at a character), secrets
    redacted, with the size and SHA-256 of the whole of it."""
    whole = result.output
    digest = result.full_sha256 or hashlib.sha256(whole).hexdigest()
    size = result.full_size if result.full_size is not None else len(whole)
    kept = whole[:OUTPUT_CAP].decode("utf-8", "ignore")
    return Captured(redact.text(kept, secrets), size, digest, size > OUTPUT_CAP)


def execute(
    plan: Plan,
    config: TocsinConfig,
    *,
    transport: Transport | None = None,
    timeout: timedelta | None = None,
) -> Result:
    """Run the block; never raises for what the block or its source did (that is a failed or
    timed-out Result). `timeout`, when given, caps the block's own."""
    block = plan.block()
    limit = block.timeout or config.runbooks.step_timeout
    if timeout is not None:
        limit = min(limit, timeout)
    started = time.monotonic()
    if block.kind == "sql":
        result = _sql(block, plan.params, config, limit)
    elif block.kind == "http":
        result = _http(block, plan.params, config, limit, transport)
    else:
        result = _sh(block, plan.params, config, limit)
    result.duration_ms = round((time.monotonic() - started) * 1000)
    if result.state == "succeeded":
        _assert(block, result)
    if result.error:
        result.error = redact.text(result.error, plan.secrets)
    return result


def _assert(block: Block, result: Result) -> None:
    """Each `test:` over the result: the first row's columns, `rows`, `row_count`, and for
    http `status`, `body`, `json`; a test that does not hold fails the step."""
    first = result.rows[0] if result.rows else {}
    raw = result.body if result.body is not None else result.output
    body = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(body) if block.kind == "http" else None
    except ValueError:
        parsed = None
    variables = {
        **first,
        "rows": result.rows,
        "row_count": result.row_count,
        "status": result.exit_status,
        "exit_status": result.exit_status,
        "body": body,
        "json": parsed,
        "headers": {},
        "response_time_ms": None,
        **result.facts,
    }
    for test in block.tests:
        try:
            held, error = evaluate(test, variables), None
        except ExpressionError as exc:
            held, error = False, str(exc)
        result.tests.append({"test": test, "held": held, "error": error})
        if not held and result.state == "succeeded":
            result.state = "failed"
            result.error = f"test {test!r} does not hold" + (f": {error}" if error else "")


# --- what may run ---------------------------------------------------------------------


def dialect_of(url: str) -> str:
    """`postgresql` of `postgresql+psycopg://…`."""
    return url.split(":", 1)[0].split("+", 1)[0]


def fits(block: Block, config: TocsinConfig) -> bool:
    """A block written for one dialect runs only on a source of that dialect (a step gives
    one block per dialect; the others are skipped, not failed)."""
    if block.kind != "sql" or block.dialect is None:
        return True
    source = config.sources.get(block.source or "")
    return not isinstance(source, SqlSourceConfig) or dialect_of(source.url) == block.dialect


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def refusal(block: Block, config: TocsinConfig) -> str | None:
    """Why this block may not run under this configuration, or None."""
    if block.kind == "sql":
        source = config.sources.get(block.source or "")
        if source is None:
            known = ", ".join(sorted(config.sources)) or "none"
            return f"unknown source {block.source!r} (configured: {known})"
        if not isinstance(source, SqlSourceConfig):
            return f"source {block.source!r} is not an SQL source"
        if block.mode == "write" and block.source not in config.runbooks.writable_sources:
            return (
                f"the step writes and source {block.source!r} is not among "
                "runbooks.writable_sources"
            )
    if block.kind == "sh":
        shell = config.runbooks.shell
        if not shell.enabled:
            return "shell steps are off (runbooks.shell.enabled is false)"
        try:
            argvs = commands(block.body, _Blank())
        except Invalid as exc:
            return str(exc)
        denied = sorted({argv[0] for argv in argvs} - set(shell.allow))
        if denied:
            return f"{', '.join(denied)} not in runbooks.shell.allow"
    return None


def info_of(block: Block) -> str:
    """The info string a run keeps: the block's attributes, with the front matter's default
    source made explicit (the run then needs nothing but itself)."""
    attributes = dict(block.attributes)
    if block.source and "source" not in attributes:
        attributes["source"] = block.source
    return f"{block.language} {json.dumps(attributes)}" if attributes else block.language


# --- sql ---------------------------------------------------------------------------------


def _sql_config(block: Block, config: TocsinConfig) -> SqlSourceConfig:
    source = config.sources.get(block.source or "")
    if not isinstance(source, SqlSourceConfig):
        raise SourceError("query", f"source {block.source!r} is not a configured SQL source")
    return source


def _bind(block: Block, params: Mapping[str, Any]) -> dict[str, Any]:
    # Bound by the name as written (`:Since`), valued by the name in lower case.
    return {use.written[1:]: params[use.name] for use in block.params if use.name in params}


def _sql(block: Block, params: Mapping[str, Any], config: TocsinConfig, limit: timedelta) -> Result:
    try:
        source_config = _sql_config(block, config).model_copy(update={"statement_timeout": limit})
        if block.mode == "write":
            rows, count = _sql_write(source_config, block.body, _bind(block, params), limit)
        else:
            source = SqlSource(source_config)
            try:
                rows = source.fetch(block.body, _bind(block, params))
            finally:
                source.close()
            count = len(rows)
    except SourceError as exc:
        state = "timed_out" if exc.kind == "timeout" else "failed"
        return Result(state, error=f"{exc.kind}: {exc}")
    return Result("succeeded", table(rows).encode(), row_count=count, rows=rows)


def _sql_write(
    source: SqlSourceConfig, body: str, bound: dict[str, Any], limit: timedelta
) -> tuple[list[dict[str, Any]], int]:
    """One statement in a committed transaction, with the statement timeout on PostgreSQL and
    the busy timeout on SQLite."""
    url = source.url
    options: dict[str, Any] = {}
    seconds = max(1, round(limit.total_seconds()))
    if url.startswith("postgresql"):
        ms = max(1, round(limit.total_seconds() * 1000))
        options["connect_args"] = {
            "options": f"-c statement_timeout={ms}",
            "connect_timeout": seconds,
        }
    elif url.startswith("sqlite"):
        options["connect_args"] = {"timeout": seconds}
    try:
        engine = create_engine(url, **options)
    except (sa_exc.ArgumentError, ImportError) as exc:
        raise SourceError("unreachable", redact.text(str(exc))) from None
    try:
        with engine.begin() as conn:
            result = conn.execute(text(body), bound)
            rows = [dict(r) for r in result.mappings()] if result.returns_rows else []
            return [{k: _plain(v) for k, v in r.items()} for r in rows], max(result.rowcount, 0)
    except sa_exc.OperationalError as exc:
        message = redact.text(str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc))
        kind = "timeout" if "statement timeout" in message else "query"
        raise SourceError(kind, message) from None
    except sa_exc.DBAPIError as exc:
        raise SourceError("query", redact.text(str(exc.orig).strip().splitlines()[0])) from None
    finally:
        engine.dispose()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """Rows as an aligned text table (what the timeline, the CLI and the page show)."""
    if not rows:
        return "(0 rows)\n"
    columns = list(rows[0])
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [
        " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells
    ]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value).replace("\n", " ")


# --- http ---------------------------------------------------------------------------------


def _http(
    block: Block,
    params: Mapping[str, Any],
    config: TocsinConfig,
    limit: timedelta,
    transport: Transport | None,
) -> Result:
    request = block.request
    if request is None:
        return Result("failed", error="the http block holds no request")
    headers = {name: substitute(value, params) for name, value in request.headers}
    body = substitute(request.body, params).encode() if request.body else None
    url = substitute(request.url, params)
    try:
        with Egress(config.egress, transport=transport) as client:
            reply = client.request(
                request.method,
                url,
                timeout=limit,
                max_bytes=HTTP_READ_CAP,
                cut=True,
                content=body,
                headers=headers,
            )
    except TransportError as exc:
        state = "timed_out" if exc.kind == "timeout" else "failed"
        return Result(state, error=f"{exc.kind}: {exc}")
    head = f"HTTP {reply.status}\n".encode()
    state = "succeeded" if reply.status < 400 else "failed"
    error = None if state == "succeeded" else f"the server answered {reply.status}"
    note = f"\n(the answer was cut at {HTTP_READ_CAP} bytes)\n".encode() if reply.cut else b""
    output = head + reply.body + note
    facts = {
        "headers": {k.lower(): v for k, v in reply.headers.items()},
        "response_time_ms": round(reply.seconds * 1000, 1),
    }
    return Result(
        state, output, exit_status=reply.status, error=error, body=reply.body, facts=facts
    )


# --- sh -----------------------------------------------------------------------------------


def _sh(block: Block, params: Mapping[str, Any], config: TocsinConfig, limit: timedelta) -> Result:
    shell = config.runbooks.shell
    try:
        argvs = commands(block.body, params)
    except Invalid as exc:
        return Result("failed", error=str(exc))
    output = Output()
    deadline = time.monotonic() + limit.total_seconds()
    status: int | None = None
    for argv in argvs:
        if not shell.enabled or argv[0] not in shell.allow:
            return Result("failed", error=f"{argv[0]!r} is not an allowed command")
        remaining = deadline - time.monotonic()
        status = run_command(argv, shell.path, remaining, output.add) if remaining > 0 else None
        if status is None:
            return _ended(
                output, "timed_out", status, f"timed out after {limit.total_seconds():g}s"
            )
        if status != 0:
            return _ended(output, "failed", status, f"{argv[0]} exited with status {status}")
    return _ended(output, "succeeded", status, None)


def _ended(output: Output, state: str, status: int | None, error: str | None) -> Result:
    return Result(
        state,
        bytes(output.kept),
        exit_status=status,
        error=error,
        full_size=output.size,
        full_sha256=output.hash.hexdigest(),
    )
