"""SQL databases as check sources: opened read-only, with a statement timeout and a row cap.

SQLite is opened through a `mode=ro` URI with an authorizer that allows reading only, and a
progress handler aborts statements past their deadline. PostgreSQL sessions start with
`default_transaction_read_only=on` and a server-side `statement_timeout`; every query runs in a
transaction that is rolled back. That refuses changes to the database, not what else the role
may do (a superuser's `COPY … TO PROGRAM`): `roles` says when a source's role can do more than
read. Other dialects are passed through unchanged: nothing but a read-only database role makes
them safe.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast
from urllib.parse import quote

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from tocsin import redact
from tocsin.checks.sources.base import Row
from tocsin.config.sources import SqlSourceConfig
from tocsin.errors import SourceError

MAX_ROWS = 10_000
"""More rows than this is a query that forgot to aggregate; it fails instead of eating memory."""

_log = logging.getLogger(__name__)

# Everything a read-only SELECT needs; anything else (writes, DDL, ATTACH, VACUUM INTO, which
# can create files even on a `mode=ro` connection) is refused by SQLite's authorizer.
_SQLITE_ALLOWED = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        sqlite3.SQLITE_RECURSIVE,
        sqlite3.SQLITE_PRAGMA,
    }
)
_PG_TIMEOUT = "57014"  # query_canceled: statement_timeout fired
_PG_READ_ONLY = "25006"  # read_only_sql_transaction
_PG_CONNECTION_CLASS = "08"


class SqlSource:
    """A database reached through a SQLAlchemy URL; thread-safe, with a small pool."""

    def __init__(self, config: SqlSourceConfig) -> None:
        """Build the engine without connecting; raise SourceError if the URL cannot be used."""
        self._timeout_s = config.statement_timeout.total_seconds()
        try:
            given = make_url(config.url)
        except sa_exc.ArgumentError:
            shown = redact.url(config.url)
            raise SourceError("unreachable", f"not a valid database URL: {shown!r}") from None
        url = _read_only_url(given)
        self._password = url.password or ""
        # Messages name the URL as the operator wrote it, password and query values hidden.
        self._safe_url = redact.url(given.render_as_string(hide_password=False))
        try:
            self._engine: Engine = create_engine(url, **self._engine_options(url))
        except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as exc:
            raise SourceError(
                "unreachable", self._mask(f"cannot use {self._safe_url}: {exc}")
            ) from None
        if self.dialect not in ("sqlite", "postgresql"):
            _log.warning(
                "SQL source %s: Tocsin cannot force %s read-only or time out its statements; "
                "connect with a read-only database role",
                self._safe_url,
                self.dialect,
            )

    @property
    def dialect(self) -> str:
        """The SQLAlchemy dialect name: `sqlite`, `postgresql`, `mysql`…"""
        return self._engine.dialect.name

    def fetch(self, query: str | None, params: Mapping[str, Any]) -> list[Row]:
        """Run one statement with `params` bound and return at most MAX_ROWS rows as dicts.

        Raises SourceError: `unreachable` when no connection can be made, `timeout` past the
        statement timeout, `query` for bad SQL, any attempt to write, or too many rows.
        """
        if not query:
            raise SourceError("query", "an SQL source needs a query")
        bound = self._bind_values(params)
        try:
            conn = self._engine.connect()
        except sa_exc.DBAPIError as exc:
            raise SourceError("unreachable", self._describe_connect_error(exc)) from None
        except sa_exc.TimeoutError:
            raise SourceError("timeout", "every pooled connection to the source is busy") from None
        with conn:
            if self.dialect == "postgresql":
                rows = self._fetch_postgresql(conn, query, bound)
            else:
                rows = self._fetch_generic(conn, query, bound)
        return [{key: _plain(value) for key, value in row.items()} for row in rows]

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    # --- engines ---------------------------------------------------------------------------

    def _engine_options(self, url: URL) -> dict[str, Any]:
        # Checks run on worker threads that share this engine: a small pool, pinged before
        # use so a restarted database costs one failed ping, not one failed check.
        options: dict[str, Any] = {
            "pool_pre_ping": True,
            "pool_size": 2,
            "max_overflow": 4,
            # Waiting for a free connection counts against the same budget as the statement.
            "pool_timeout": self._timeout_s,
        }
        backend = url.get_backend_name()
        if backend == "sqlite":
            if url.database in (None, "", ":memory:"):
                # An in-memory database is private to its connection: nothing to protect.
                return {}
            options["connect_args"] = {"check_same_thread": False, "timeout": self._timeout_s}
        elif backend == "postgresql":
            timeout_ms = max(1, round(self._timeout_s * 1000))
            ours = f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms}"
            # Ours come last so that a URL's own `options` cannot turn read-only back off.
            theirs = url.query.get("options")
            theirs = theirs if isinstance(theirs, str) else " ".join(theirs or ())
            options["connect_args"] = {
                "options": f"{theirs} {ours}".strip(),
                "connect_timeout": max(1, math.ceil(self._timeout_s)),
                "application_name": "tocsin",
            }
        return options

    def _bind_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if self.dialect != "sqlite":
            return dict(params)
        # SQLite has no timestamp type; the text form below is how timestamps are stored (the
        # demo does so), so comparisons on it are ordered correctly.
        return {key: _sqlite_value(value) for key, value in params.items()}

    # --- running ---------------------------------------------------------------------------

    def _fetch_postgresql(self, conn: Connection, query: str, bound: dict[str, Any]) -> list[Row]:
        # psycopg sends a statement without parameters through the simple query protocol, which
        # runs several `;`-separated statements — `SET TRANSACTION READ WRITE; INSERT …` would
        # escape read-only. `Cursor.stream` always uses the extended protocol (one statement)
        # and yields rows as they arrive, so the row cap also bounds memory.
        compiled = text(query).compile(dialect=self._engine.dialect)
        try:
            values = compiled.construct_params(bound)
        except sa_exc.InvalidRequestError as exc:
            raise SourceError("query", _first_line(str(exc.args[0]))) from None
        raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
        try:
            with raw.cursor(row_factory=dict_row) as cursor:
                # Closing the generator early cancels the statement on the server.
                stream = cursor.stream(str(compiled), values, size=_stream_chunk())
                with closing(cast(Generator[Row, None, None], stream)) as rows:
                    return _capped(rows)
        except psycopg.Error as exc:
            raise self._postgresql_error(exc) from None
        finally:
            self._roll_back(conn, raw)

    def _fetch_generic(self, conn: Connection, query: str, bound: dict[str, Any]) -> list[Row]:
        deadline = time.monotonic() + self._timeout_s
        try:
            with self._sqlite_guard(conn, deadline):
                result = conn.execute(text(query), bound)
                if not result.returns_rows:
                    return []
                return _capped(dict(row) for row in result.mappings())
        except sa_exc.DBAPIError as exc:
            raise self._generic_error(exc, time.monotonic() > deadline) from None
        except sa_exc.StatementError as exc:
            # Not from the database: a bind parameter the query names but was not given.
            cause = exc.orig if exc.orig is not None else exc
            raise SourceError("query", self._mask(_first_line(str(cause.args[0])))) from None

    @contextmanager
    def _sqlite_guard(self, conn: Connection, deadline: float) -> Iterator[None]:
        """On SQLite, allow reading only and interrupt the statement once `deadline` passes."""
        if self.dialect != "sqlite":
            yield
            return
        raw: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]

        def authorize(action: int, *_: object) -> int:
            return sqlite3.SQLITE_OK if action in _SQLITE_ALLOWED else sqlite3.SQLITE_DENY

        raw.set_authorizer(authorize)
        # Called every 1000 virtual-machine steps; a non-zero answer interrupts the statement.
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)
            raw.set_authorizer(None)

    def _roll_back(self, conn: Connection, raw: psycopg.Connection[Any]) -> None:
        """Undo whatever the statement did and, if the connection died, keep it out of the pool."""
        try:
            raw.rollback()
        except psycopg.Error:
            conn.invalidate()
            return
        if raw.broken or raw.closed:
            conn.invalidate()

    # --- errors ----------------------------------------------------------------------------

    def _describe_connect_error(self, exc: sa_exc.DBAPIError) -> str:
        return self._mask(f"cannot connect to {self._safe_url}: {_first_line(str(exc.orig))}")

    def _postgresql_error(self, exc: psycopg.Error) -> SourceError:
        message = self._mask(_first_line(str(exc)))
        state = exc.sqlstate or ""
        if state == _PG_TIMEOUT:
            return SourceError("timeout", f"the query ran past {self._timeout_s:g}s: {message}")
        if state == _PG_READ_ONLY:
            return SourceError("query", f"the source is read-only: {message}")
        if state.startswith(_PG_CONNECTION_CLASS) or (not state and _is_connection_loss(exc)):
            return SourceError("unreachable", f"lost {self._safe_url}: {message}")
        return SourceError("query", message)

    def _generic_error(self, exc: sa_exc.DBAPIError, past_deadline: bool) -> SourceError:
        message = self._mask(_first_line(str(exc.orig)))
        lowered = message.lower()
        if (past_deadline and "interrupted" in lowered) or "database is locked" in lowered:
            return SourceError("timeout", f"the query ran past {self._timeout_s:g}s: {message}")
        if "not authorized" in lowered or "authorization denied" in lowered:
            # Our authorizer refused it: SQLite names no reason, so say it.
            return SourceError(
                "query", f"the source is read-only: only reading statements may run ({message})"
            )
        if "readonly" in lowered or "read-only" in lowered:
            return SourceError("query", f"the source is read-only: {message}")
        if exc.connection_invalidated or "unable to open" in lowered or "disk i/o" in lowered:
            return SourceError("unreachable", f"lost {self._safe_url}: {message}")
        return SourceError("query", message)

    def _mask(self, message: str) -> str:
        return redact.text(message, [self._password])


def _read_only_url(url: URL) -> URL:
    """Map plain `postgresql://` to psycopg 3 and SQLite files to a `mode=ro` URI."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return url
    database = url.database or ""
    if not (database.startswith("file:") and url.query.get("uri") == "true"):
        database = "file:" + quote(database)
    return url.set(database=database).update_query_dict({"mode": "ro", "uri": "true"})


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _plain(value: Any) -> Any:
    """Decimal becomes int when it has no fraction digits, else float; the rest is left alone."""
    if isinstance(value, Decimal):
        if value.is_finite() and value.as_tuple().exponent == 0:
            return int(value)
        return float(value)
    return value


def _capped(rows: Iterator[Row]) -> list[Row]:
    out: list[Row] = []
    for row in rows:
        if len(out) == MAX_ROWS:
            raise SourceError(
                "query", f"the query returned more than {MAX_ROWS} rows; aggregate or add a LIMIT"
            )
        out.append(row)
    return out


def _stream_chunk() -> int:
    # Chunked rows need libpq 17; older ones stream one row at a time, which is only slower.
    return 500 if psycopg.capabilities.has_stream_chunked() else 1


def _is_connection_loss(exc: psycopg.Error) -> bool:
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"
