"""The one documented exception tree.

TocsinError
├── ConfigError      the configuration file is wrong; carries every problem with file:line: path
├── NotFound         a named thing (alert, check) does not exist
├── Conflict         a state change lost a compare-and-set, or is not allowed from this state
├── Invalid          an operator's input is not acceptable
├── StoreBehind      the store's schema is older than this code; `tocsin db upgrade` fixes it
└── SourceError      a source could not answer (unreachable, timeout, bad SQL, non-number):
                     the check goes to its check-error state, never to a false all-clear
"""

from __future__ import annotations


class TocsinError(Exception):
    """Base of every error Tocsin raises on purpose."""


class ConfigError(TocsinError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class NotFound(TocsinError):
    pass


class Conflict(TocsinError):
    pass


class Invalid(TocsinError):
    pass


class StoreBehind(TocsinError):
    pass


class SourceError(TocsinError):
    """A source failed; `kind` is one of unreachable, tls, timeout, query, not_a_number,
    no_data."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)
