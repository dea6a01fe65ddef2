"""Pure evaluation: rows and time in, the severity each series should have out.

Nothing here touches the store or the network; the worker feeds it the rows a source
returned, the open alerts' severities (for hysteresis), the pending series (for `for`) and
the baselines, and writes back what it returns.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from tocsin.checks.verdict import apply_for, column_message, column_severity, ladder_severity
from tocsin.config.checks import ActiveHoursConfig, CheckConfig, ScheduleConfig
from tocsin.config.fields import DAYS, parse_duration
from tocsin.errors import SourceError
from tocsin.expressions import ExpressionError, render
from tocsin.fingerprint import fingerprint
from tocsin.titles import fit

MAX_COLUMN_TEXT = 500


@dataclass(frozen=True)
class RowResult:
    """What one row of a check says about one series."""

    fingerprint: str
    labels: dict[str, str]
    columns: dict[str, Any]
    value: float | None
    current: float | None = None
    baseline: float | None = None
    raw_severity: str | None = None  # what the ladder (with hysteresis) says now
    severity: str | None = None  # what the alert should be now, after `for`
    pending_since: datetime | None = None
    title: str = ""
    message: str = ""
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "labels": self.labels,
            "value": self.value,
            "current": self.current,
            "baseline": self.baseline,
            "raw_severity": self.raw_severity,
            "severity": self.severity,
            "pending_since": self.pending_since.isoformat() if self.pending_since else None,
            "message": self.message,
            "columns": self.columns,
            "notes": self.notes,
        }


# --- schedules and time ------------------------------------------------------------------


def schedule_key(schedule: ScheduleConfig) -> str:
    """A string that changes whenever the schedule's meaning changes."""
    if schedule.every is not None:
        return f"every:{schedule.every.total_seconds()}"
    return f"cron:{schedule.cron}@{schedule.timezone}"


def first_slot(schedule: ScheduleConfig, now: datetime) -> datetime:
    """Interval checks run at once; cron checks at their next tick."""
    if schedule.every is not None:
        return now
    return _next_cron(schedule, now)


def next_slot(schedule: ScheduleConfig, slot: datetime, now: datetime) -> datetime:
    """The slot after `slot`, skipping slots already in the past (no backfill after downtime)."""
    if schedule.every is not None:
        step = schedule.every
        following = slot + step
        if following <= now:
            missed = math.floor((now - slot) / step)
            following = slot + step * (missed + 1)
        return following
    return _next_cron(schedule, max(slot, now))


def _next_cron(schedule: ScheduleConfig, after: datetime) -> datetime:
    assert schedule.cron is not None
    local = after.astimezone(ZoneInfo(schedule.timezone))
    following: datetime = croniter(schedule.cron, local).get_next(datetime)
    return following.astimezone(UTC)


def in_active_hours(hours: ActiveHoursConfig | None, at: datetime) -> bool:
    """Whether `at` falls in the window; a window ending before it starts wraps past midnight."""
    if hours is None:
        return True
    local = at.astimezone(ZoneInfo(hours.timezone))
    start, end = hours.bounds()
    moment = local.time()
    if start <= end:
        day = DAYS[local.weekday()]
        return day in hours.days and start <= moment < end
    # Overnight window: the part after midnight belongs to the previous day's window.
    if moment >= start:
        return DAYS[local.weekday()] in hours.days
    if moment < end:
        return DAYS[(local.weekday() - 1) % 7] in hours.days
    return False


def resolve_params(params: Mapping[str, str], now: datetime, zone: str) -> dict[str, datetime]:
    """Turn `now-10m`, `today`, `today-30d` into aware UTC datetimes from the injected clock."""
    out: dict[str, datetime] = {}
    for name, spec in params.items():
        text = spec.replace(" ", "")
        base_name, sign, amount = text, "", ""
        for op in ("+", "-"):
            if op in text:
                base_name, amount = text.split(op, 1)
                sign = op
                break
        if base_name == "today":
            local = now.astimezone(ZoneInfo(zone))
            base = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        else:
            base = now
        delta = parse_duration(amount) if amount else timedelta(0)
        out[name] = base - delta if sign == "-" else base + delta
    return out


# --- values ------------------------------------------------------------------------------


def as_number(value: Any, column: str) -> float | None:
    """A float, None for SQL NULL; anything else is a SourceError('not_a_number')."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise SourceError("not_a_number", f"column {column!r} is a boolean, not a number")
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise SourceError("not_a_number", f"column {column!r} is {value!r}, not a number")


def value_column(check: CheckConfig, row: Mapping[str, Any]) -> str | None:
    """The column compared by shorthand conditions: `value:` if set, else `value`, else the
    only numeric column."""
    if check.value is not None:
        if check.value not in row:
            raise SourceError(
                "query", f"the result has no column {check.value!r} (it has {', '.join(row)})"
            )
        return check.value
    if "value" in row:
        return "value"
    numeric = [
        k
        for k, v in row.items()
        if isinstance(v, int | float | Decimal)
        and not isinstance(v, bool)
        and k not in (*check.key, check.firing_column)
    ]
    return numeric[0] if len(numeric) == 1 else None


def row_labels(check: CheckConfig, row: Mapping[str, Any], key: Sequence[str]) -> dict[str, str]:
    labels = dict(check.labels)
    for column in key:
        if column not in row:
            raise SourceError("query", f"key column {column!r} is not in the result")
        labels[column] = "" if row[column] is None else str(row[column])
    return labels


def series_key(check: CheckConfig, rows: Sequence[Mapping[str, Any]], dialect: str) -> list[str]:
    """Key columns: configured ones; for Prometheus every label of the series."""
    if check.key:
        return list(check.key)
    if dialect == "prometheus" and rows:
        return sorted(k for k in rows[0] if k != "value")
    return []


def compare(current: float | None, baseline: float | None, mode: str) -> float | None:
    """current/baseline as a ratio or a percent change; None when there is nothing to compare."""
    if current is None or baseline is None or baseline == 0:
        return None
    ratio = current / baseline
    return round(ratio, 4) if mode == "ratio" else round((ratio - 1) * 100, 2)


def aggregate(values: Sequence[float], how: str) -> float | None:
    if not values:
        return None
    if how == "avg":
        return statistics.fmean(values)
    if how == "median":
        return float(statistics.median(values))
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# --- one evaluation ----------------------------------------------------------------------


def evaluate_rows(
    check: CheckConfig,
    rows: Sequence[Mapping[str, Any]],
    *,
    dialect: str,
    now: datetime,
    previous: Mapping[str, str],
    pending: Mapping[str, tuple[str, datetime]],
    baselines: Mapping[str, float | None] | None = None,
) -> list[RowResult]:
    """Evaluate every row; raise SourceError when the result cannot be trusted (no data,
    non-numbers, a broken condition) so the check goes to its error state instead."""
    key = series_key(check, rows, dialect)
    if not rows:
        if key:
            return []
        if check.no_data == "ok":
            return []
        raise SourceError("no_data", "the query returned no rows")
    if not key and len(rows) > 1:
        raise SourceError(
            "query", f"the query returned {len(rows)} rows; set `key:` to alert per row"
        )
    results = []
    seen: set[str] = set()
    named = title_labels(check, rows, key)
    for row in rows:
        result = _evaluate_row(check, row, key, named, now, previous, pending, baselines)
        if result.fingerprint in seen:
            raise SourceError("query", f"two rows have the same key {result.labels}")
        seen.add(result.fingerprint)
        results.append(result)
    return results


def title_labels(
    check: CheckConfig, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> list[str]:
    """The key labels a default title names: all of a configured `key:`; of a Prometheus
    series' labels (its key when none is configured), only those whose values differ between
    the series this evaluation returned, at most three: a title naming every label of a
    series (`__name__`, `instance`, `job`, `device`…) reads as a dump, and the alert carries
    them all as labels anyway. A title is set when its alert fires, so it does not change."""
    if check.key:
        return list(key)
    varying = [k for k in key if len({str(row.get(k)) for row in rows}) > 1]
    return varying[:3]


def _evaluate_row(
    check: CheckConfig,
    row: Mapping[str, Any],
    key: Sequence[str],
    named: Sequence[str],
    now: datetime,
    previous: Mapping[str, str],
    pending: Mapping[str, tuple[str, datetime]],
    baselines: Mapping[str, float | None] | None,
) -> RowResult:
    labels = row_labels(check, row, key)
    fp = fingerprint(check.name, labels)
    column = value_column(check, row)
    current = as_number(row[column], column) if column is not None else None
    notes: list[str] = []
    baseline = None
    value = current
    if check.baseline is not None:
        baseline = (baselines or {}).get(fp)
        value = compare(current, baseline, check.baseline.compare)
        if value is None and current is not None:
            notes.append("no baseline to compare with")
    columns = {k: _json_safe(v) for k, v in row.items()}
    decides = check.firing_column is not None  # the row's own columns, not the ladder
    # A NULL value is no data, unless the row decides by its own columns (the value is then
    # only shown).
    if (
        column is not None
        and current is None
        and check.no_data == "error"
        and not notes
        and not decides
    ):
        raise SourceError("no_data", f"column {column!r} is NULL")
    variables = {
        **columns,
        "value": value,
        "current": current,
        "baseline": baseline,
        "labels": labels,
    }
    if decides:
        raw = column_severity(check, row)
    elif value is None and column is not None:
        raw = None  # nothing to compare: clear, never a guess
    else:
        try:
            raw = ladder_severity(check.conditions, variables, previous.get(fp))
        except ExpressionError as exc:
            raise SourceError("query", f"condition cannot be evaluated: {exc}") from None
    severity, since = apply_for(raw, previous.get(fp), pending.get(fp), check.for_, now)
    if raw is not None and severity is None:
        notes.append(f"pending since {since:%H:%M:%S} (for {check.for_})" if since else "pending")
    title = render(check.title, variables) if check.title else _default_title(check, labels, named)
    if check.message:
        message = render(check.message, variables)
    elif decides:
        message = column_message(check, columns)
    else:
        message = _default_message(column, value, current, baseline)
    title, message = fit(title, message)
    return RowResult(
        fingerprint=fp,
        labels=labels,
        columns=columns,
        value=value,
        current=current,
        baseline=baseline,
        raw_severity=raw,
        severity=severity,
        pending_since=since,
        title=title,
        message=message,
        notes=notes,
    )


def _default_title(check: CheckConfig, labels: Mapping[str, str], key: Sequence[str]) -> str:
    name = check.name.replace("_", " ").capitalize()
    if not key:
        return name
    return f"{name} ({', '.join(labels[k] for k in key)})"


def _default_message(
    column: str | None, value: float | None, current: float | None, baseline: float | None
) -> str:
    if column is None:
        return ""
    if baseline is not None:
        return f"{column} = {current:g} against a baseline of {baseline:g} ({value})"
    return f"{column} = {value:g}" if value is not None else f"{column} is empty"


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value[:MAX_COLUMN_TEXT] if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return value
    return str(value)[:MAX_COLUMN_TEXT]
