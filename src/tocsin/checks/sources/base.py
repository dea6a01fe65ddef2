"""What every source offers a check: rows of columns, or a SourceError saying why not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

Row = dict[str, Any]


class Source(Protocol):
    """A place a check reads from. Implementations are thread-safe and hold their own pool."""

    @property
    def dialect(self) -> str:
        """`sqlite`, `postgresql`, `mysql`… for SQL; `http` or `prometheus` otherwise."""
        ...

    def fetch(self, query: str | None, params: Mapping[str, Any]) -> list[Row]:
        """Run one query or probe and return its rows.

        Raises SourceError(kind, message) with kind one of `unreachable`, `timeout`,
        `query` (the source rejected the query, including any attempt to write).
        """
        ...

    def close(self) -> None: ...
