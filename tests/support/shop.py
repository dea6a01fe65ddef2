"""A tiny source database for worker tests: one table whose value a test sets."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class ValueTable:
    """A SQLite file with `metric(name, value)`; tests move values, checks read them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS metric (name TEXT PRIMARY KEY, value)")

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def set(self, name: str, value: object) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute(
                "INSERT INTO metric VALUES (?, ?) ON CONFLICT(name) DO UPDATE "
                "SET value = excluded.value",
                (name, value),
            )
