"""What a row says, purely: the severity a check's ladder of conditions gives it, or the one
the row gives itself in its firing and severity columns, and the `for` that delays a firing.

The columns are how reference 000 §6.2.2 writes a check: a PL/pgSQL function that decides and
returns `is_alert` and `severity`. `firing_column: is_alert` and `severity_column: severity`
take its verdict as it is; the severity words are the reference's (CRITICAL, HIGH, WARNING,
INFO), also as SEV-1…3 and P1…3 (6.2.1's other names for them), in any case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tocsin.config.checks import CheckConfig, ConditionConfig
from tocsin.config.fields import SEVERITIES
from tocsin.errors import SourceError
from tocsin.expressions import evaluate

_SEVERITY_WORDS = {
    **{word: word for word in SEVERITIES},
    **{"SEV1": "CRITICAL", "P1": "CRITICAL"},
    **{"SEV2": "HIGH", "P2": "HIGH"},
    **{"SEV3": "WARNING", "P3": "WARNING"},
}


# --- the ladder --------------------------------------------------------------------------


def ladder_severity(
    conditions: Sequence[ConditionConfig], variables: Mapping[str, Any], previous: str | None
) -> str | None:
    """First rung whose `when` holds; a rung at or below the previous severity also holds
    until its `clear` does (hysteresis: fire at 10, clear only below 5)."""
    previous_index = _rung_index(conditions, previous)
    for index, rung in enumerate(conditions):
        if evaluate(rung.when, variables):
            return rung.severity
        if (
            rung.clear is not None
            and previous_index is not None
            and previous_index <= index
            and not evaluate(rung.clear, variables)
        ):
            return rung.severity
    return None


def _rung_index(conditions: Sequence[ConditionConfig], severity: str | None) -> int | None:
    if severity is None:
        return None
    for index, rung in enumerate(conditions):
        if rung.severity == severity:
            return index
    return None


def apply_for(
    raw: str | None,
    previous: str | None,
    pending: tuple[str, datetime] | None,
    hold: timedelta,
    now: datetime,
) -> tuple[str | None, datetime | None]:
    """Return (severity now, pending since). A new condition must hold for `hold` before it
    fires; an alert already open follows the ladder at once; a cleared condition clears."""
    if raw is None:
        return None, None
    if previous is not None or hold <= timedelta(0):
        return raw, None
    since = pending[1] if pending is not None else now
    if now - since >= hold:
        return raw, None
    return None, since


def column_severity(check: CheckConfig, row: Mapping[str, Any]) -> str | None:
    """The severity a row gives itself: its `severity_column` when its `firing_column` is
    true, None when it is false. Raise SourceError when a column is missing or says
    something else (a NULL firing column is no data)."""
    assert check.firing_column is not None
    assert check.severity_column is not None
    firing = _column(row, check.firing_column)
    if firing is None:
        if check.no_data == "ok":
            return None
        raise SourceError("no_data", f"column {check.firing_column!r} is NULL")
    # SQLite has no boolean type: its true and false are 1 and 0.
    if not isinstance(firing, bool | int) or firing not in (0, 1):
        raise SourceError(
            "query", f"column {check.firing_column!r} is {firing!r}, not true or false"
        )
    if not firing:
        return None
    word = _column(row, check.severity_column)
    severity = _SEVERITY_WORDS.get(str(word).upper().replace("-", "").replace(" ", ""))
    if word is None or severity is None:
        raise SourceError(
            "query",
            f"column {check.severity_column!r} is {word!r}, not one of CRITICAL, HIGH, WARNING, "
            "INFO (or SEV-1, SEV-2, SEV-3, P1, P2, P3)",
        )
    return severity


def column_message(check: CheckConfig, columns: Mapping[str, Any]) -> str:
    """The message of a check whose row decides and that has no `message:` of its own: the
    row's `message` column if it has one (as two of §6.2.2's functions do), else its other
    columns."""
    if isinstance(columns.get("message"), str):
        return str(columns["message"])
    shown = {check.firing_column, check.severity_column, *check.key}
    return ", ".join(f"{k} = {v}" for k, v in columns.items() if k not in shown)


def _column(row: Mapping[str, Any], name: str) -> Any:
    if name not in row:
        raise SourceError("query", f"the result has no column {name!r} (it has {', '.join(row)})")
    return row[name]
