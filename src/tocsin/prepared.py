"""Statements compiled once per dialect and run on the driver's own cursor, for the few
hot paths where SQLAlchemy's per-execution work (cache key, execution context, result
wrapping: about 80–120 µs a statement here) costs more than the database (5–10 µs).

The driver keeps them prepared: sqlite3 caches each SQL string's prepared statement per
connection, and psycopg prepares a statement on the server after a few executions. Values
still go through the columns' own bind and result processing, so what is stored is exactly
what the ORM would store (SQLite's datetime text, aware UTC back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


class Prepared:
    """One Core statement for one dialect: `rows(connection, values)` runs it on the
    connection's DBAPI cursor (inside the connection's transaction) and returns plain
    tuples, result values processed by the selected columns' types."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self._positional = list(compiled.positiontup or []) if compiled.positional else None
        self._binds: dict[str, Processor | None] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        self._dialect = dialect
        self._columns = list(getattr(statement, "selected_columns", None) or [])
        self._results: list[Processor | None] | None = None  # known at the first answer

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        params = {
            name: value if (bind := self._binds.get(name)) is None else bind(value)
            for name, value in values.items()
        }
        cursor = connection.connection.cursor()
        try:
            if self._positional is None:
                cursor.execute(self.sql, params)
            else:
                cursor.execute(self.sql, [params[name] for name in self._positional])
            if cursor.description is None or not self._columns:
                return []  # (PostgreSQL's INSERT may return the new id unasked)
            if self._results is None:
                self._results = [
                    column.type.dialect_impl(self._dialect).result_processor(self._dialect, code)
                    for column, (_, code, *_) in zip(self._columns, cursor.description, strict=True)
                ]
            return [self._process(row, self._results) for row in cursor.fetchall()]
        finally:
            cursor.close()

    @staticmethod
    def _process(row: tuple[Any, ...], processors: list[Processor | None]) -> tuple[Any, ...]:
        return tuple(
            value if processor is None else processor(value)
            for processor, value in zip(processors, row, strict=True)
        )


class Statements:
    """A statement's `Prepared` form per dialect, made on first use."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, Prepared] = {}

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        dialect = connection.dialect
        prepared = self._by_dialect.get(dialect.name)
        if prepared is None:
            prepared = self._by_dialect[dialect.name] = Prepared(self.statement, dialect)
        return prepared.rows(connection, values)
