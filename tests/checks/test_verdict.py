"""A check whose query decides: `firing_column` and `severity_column` (reference 000 §6.2.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tocsin.checks import evaluate as ev
from tocsin.config import CheckConfig
from tocsin.errors import SourceError

NOW = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)


def check(**overrides: Any) -> CheckConfig:
    data: dict[str, Any] = {
        "name": "manual_queue",
        "source": "shop",
        "schedule": {"every": "5m"},
        "query": "SELECT * FROM check_manual_queue()",
        "firing_column": "is_alert",
        "severity_column": "severity",
    }
    data.update(overrides)
    return CheckConfig.model_validate(data)


def run(c: CheckConfig, *rows: dict[str, Any], **kwargs: Any) -> list[ev.RowResult]:
    options: dict[str, Any] = {"previous": {}, "pending": {}, "now": NOW, **kwargs}
    return ev.evaluate_rows(c, list(rows), dialect="postgresql", **options)


def test_a_true_firing_column_fires_at_the_rows_own_severity() -> None:
    (result,) = run(check(), {"is_alert": True, "severity": "HIGH", "queue_depth": 51})
    assert (result.severity, result.message) == ("HIGH", "queue_depth = 51")


def test_a_false_firing_column_does_not_fire_whatever_the_severity_says() -> None:
    (result,) = run(check(), {"is_alert": False, "severity": "INFO", "message": "3 items"})
    assert (result.severity, result.message) == (None, "3 items")


def test_sqlite_true_and_false_are_one_and_zero() -> None:
    assert run(check(), {"is_alert": 1, "severity": "WARNING"})[0].severity == "WARNING"
    assert run(check(), {"is_alert": 0, "severity": "WARNING"})[0].severity is None


@pytest.mark.parametrize(
    ("word", "severity"),
    [
        ("CRITICAL", "CRITICAL"),
        ("critical", "CRITICAL"),
        ("SEV-1", "CRITICAL"),
        ("P1", "CRITICAL"),
        ("sev2", "HIGH"),
        (" Warning ", "WARNING"),
        ("P3", "WARNING"),
        ("INFO", "INFO"),
    ],
)
def test_the_references_severity_words_map_onto_tocsins(word: str, severity: str) -> None:
    assert run(check(), {"is_alert": True, "severity": word})[0].severity == severity


@pytest.mark.parametrize(
    ("row", "kind", "message"),
    [
        (
            {"is_alert": True, "severity": "URGENT"},
            "query",
            "column 'severity' is 'URGENT', not one of CRITICAL, HIGH, WARNING, INFO",
        ),
        ({"is_alert": True, "severity": None}, "query", "column 'severity' is None"),
        ({"is_alert": "yes", "severity": "HIGH"}, "query", "'yes', not true or false"),
        ({"is_alert": None, "severity": "HIGH"}, "no_data", "column 'is_alert' is NULL"),
        ({"alert": True, "severity": "HIGH"}, "query", "the result has no column 'is_alert'"),
    ],
)
def test_a_column_that_says_something_else_is_an_error_naming_it(
    row: dict[str, Any], kind: str, message: str
) -> None:
    with pytest.raises(SourceError) as caught:
        run(check(), row)
    assert caught.value.kind == kind
    assert message in str(caught.value)


def test_a_null_firing_column_is_all_clear_when_no_data_is_ok() -> None:
    assert run(check(no_data="ok"), {"is_alert": None, "severity": None})[0].severity is None


def test_a_null_value_column_is_shown_not_an_error() -> None:
    c = check(value="error_rate_percent")
    (result,) = run(c, {"is_alert": False, "severity": "INFO", "error_rate_percent": None})
    assert result.severity is None


def test_for_still_holds_a_new_firing_back() -> None:
    c = check(**{"for": "10m"})
    row = {"is_alert": True, "severity": "CRITICAL"}
    (first,) = run(c, row)
    assert (first.severity, first.raw_severity) == (None, "CRITICAL")
    later = NOW + timedelta(minutes=10)
    (second,) = run(c, row, now=later, pending={first.fingerprint: ("CRITICAL", NOW)})
    assert second.severity == "CRITICAL"


def test_one_alert_per_key_with_the_functions_columns() -> None:
    rows = [
        {"provider_name": "acme", "is_alert": True, "severity": "HIGH", "p95": 400},
        {"provider_name": "zoom", "is_alert": False, "severity": "INFO", "p95": 105},
    ]
    results = run(check(key=["provider_name"]), *rows)
    assert [(r.labels["provider_name"], r.severity, r.message) for r in results] == [
        ("acme", "HIGH", "p95 = 400"),
        ("zoom", None, "p95 = 105"),
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"severity_column": None}, "'firing_column' and 'severity_column' go together"),
        (
            {"conditions": [{"when": "> 1", "severity": "HIGH"}]},
            "give 'conditions' or 'firing_column', not both",
        ),
        ({"baseline": {"query": "SELECT 1"}}, "a baseline is compared by 'conditions'"),
        (
            {"firing_column": None, "severity_column": None},
            "give 'conditions', or 'firing_column' and 'severity_column'",
        ),
    ],
)
def test_the_columns_replace_the_ladder_never_mix_with_it(
    change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        check(**change)
