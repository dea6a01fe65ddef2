"""The pure core of checks: ladders, hysteresis, `for`, active hours, baselines, schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tocsin.checks import evaluate as ev
from tocsin.config import CheckConfig, ScheduleConfig
from tocsin.errors import SourceError

NOW = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)


def check(**overrides: Any) -> CheckConfig:
    data: dict[str, Any] = {
        "name": "error_rate",
        "source": "shop",
        "schedule": {"every": "1m"},
        "query": "SELECT 1",
        "conditions": [
            {"when": ">= 10", "severity": "HIGH", "clear": "< 5"},
            {"when": ">= 5", "severity": "WARNING"},
        ],
    }
    data.update(overrides)
    return CheckConfig.model_validate(data)


def run(
    c: CheckConfig,
    rows: list[dict[str, Any]],
    previous: dict[str, str] | None = None,
    pending: dict[str, tuple[str, datetime]] | None = None,
    now: datetime = NOW,
    baselines: dict[str, float | None] | None = None,
) -> list[ev.RowResult]:
    return ev.evaluate_rows(
        c,
        rows,
        dialect="sqlite",
        now=now,
        previous=previous or {},
        pending=pending or {},
        baselines=baselines,
    )


def test_the_ladder_takes_the_first_rung_that_holds() -> None:
    c = check()
    assert [run(c, [{"value": v}])[0].severity for v in (3, 5, 9.9, 10, 50)] == [
        None,
        "WARNING",
        "WARNING",
        "HIGH",
        "HIGH",
    ]


def test_hysteresis_fires_at_10_and_clears_only_below_5() -> None:
    c = check()
    fp = run(c, [{"value": 0}])[0].fingerprint
    # Once HIGH, the HIGH rung holds until its clear condition (< 5) is met.
    assert run(c, [{"value": 7}], previous={fp: "HIGH"})[0].severity == "HIGH"
    assert run(c, [{"value": 5}], previous={fp: "HIGH"})[0].severity == "HIGH"
    assert run(c, [{"value": 4.9}], previous={fp: "HIGH"})[0].severity is None
    # Without a previous alert the same 7 is only a WARNING.
    assert run(c, [{"value": 7}])[0].severity == "WARNING"


def test_a_noisy_value_around_the_threshold_does_not_flap() -> None:
    c = check(conditions=[{"when": ">= 10", "severity": "HIGH", "clear": "< 5"}])
    fp = run(c, [{"value": 0}])[0].fingerprint
    previous: dict[str, str] = {}
    states = []
    for value in (11, 9, 10.5, 8, 9.5, 6, 10, 4, 9):
        result = run(c, [{"value": value}], previous=previous)[0]
        states.append(result.severity)
        previous = {fp: result.severity} if result.severity else {}
    assert states == ["HIGH"] * 7 + [None, None]


def test_conditions_can_use_several_columns() -> None:
    c = check(
        conditions=[
            {"when": "urgent_count > 0 and oldest > 120", "severity": "CRITICAL"},
            {"when": "depth > 50", "severity": "HIGH"},
        ],
        value="depth",
    )
    assert run(c, [{"depth": 10, "urgent_count": 2, "oldest": 130}])[0].severity == "CRITICAL"
    assert run(c, [{"depth": 60, "urgent_count": 0, "oldest": 0}])[0].severity == "HIGH"
    assert run(c, [{"depth": 6, "urgent_count": 1, "oldest": 10}])[0].severity is None


def test_for_waits_before_firing_and_an_open_alert_follows_at_once() -> None:
    c = check(**{"for": "5m"})
    first = run(c, [{"value": 12}])[0]
    assert first.severity is None
    assert first.raw_severity == "HIGH"
    assert first.pending_since == NOW
    pending = {first.fingerprint: ("HIGH", NOW)}
    assert (
        run(c, [{"value": 12}], pending=pending, now=NOW + timedelta(minutes=4))[0].severity is None
    )
    assert (
        run(c, [{"value": 12}], pending=pending, now=NOW + timedelta(minutes=5))[0].severity
        == "HIGH"
    )
    # A condition that clears while pending forgets its start.
    cleared = run(c, [{"value": 1}], pending=pending, now=NOW + timedelta(minutes=2))[0]
    assert cleared.pending_since is None


def test_one_alert_per_row_keyed_by_chosen_columns() -> None:
    c = check(key=["provider_name"], labels={"service": "fulfilment"})
    results = run(
        c, [{"provider_name": "printful", "value": 2}, {"provider_name": "printify", "value": 12}]
    )
    assert [r.labels for r in results] == [
        {"service": "fulfilment", "provider_name": "printful"},
        {"service": "fulfilment", "provider_name": "printify"},
    ]
    assert [r.severity for r in results] == [None, "HIGH"]
    assert results[0].fingerprint != results[1].fingerprint


def test_several_rows_without_a_key_is_an_error() -> None:
    with pytest.raises(SourceError, match="set `key:`"):
        run(check(), [{"value": 1}, {"value": 2}])


@pytest.mark.parametrize("bad", ["abc", True, [1], {"a": 1}])
def test_a_non_number_is_a_check_error(bad: object) -> None:
    with pytest.raises(SourceError) as caught:
        run(check(), [{"value": bad}])
    assert caught.value.kind == "not_a_number"


def test_no_data_is_an_error_unless_the_check_says_it_is_fine() -> None:
    with pytest.raises(SourceError) as caught:
        run(check(), [])
    assert caught.value.kind == "no_data"
    with pytest.raises(SourceError):
        run(check(), [{"value": None}])
    assert run(check(no_data="ok"), []) == []
    assert run(check(no_data="ok"), [{"value": None}])[0].severity is None


def test_an_undefined_column_in_a_condition_is_an_error_not_false() -> None:
    c = check(conditions=[{"when": "missing > 1", "severity": "HIGH"}])
    with pytest.raises(SourceError, match="missing"):
        run(c, [{"value": 1}])


def test_baseline_ratio_as_in_the_provider_check() -> None:
    c = check(
        key=["provider"],
        value="p95",
        baseline={"query": "SELECT 1", "compare": "ratio"},
        conditions=[{"when": "> 3", "severity": "HIGH"}, {"when": "> 2", "severity": "WARNING"}],
    )
    rows = [
        {"provider": "a", "p95": 2400},
        {"provider": "b", "p95": 3700},
        {"provider": "c", "p95": 1000},
        {"provider": "d", "p95": 500},
    ]
    fps = [r.fingerprint for r in run(c, rows, baselines={})]
    baselines = {fps[0]: 1000.0, fps[1]: 1200.0, fps[2]: 1000.0}
    results = run(c, rows, baselines=baselines)
    assert [r.value for r in results] == [2.4, 3.0833, 1.0, None]
    assert [r.severity for r in results] == ["WARNING", "HIGH", None, None]
    assert results[3].notes == ["no baseline to compare with"]


def test_baseline_percent_as_in_the_cost_check() -> None:
    assert ev.compare(160, 100, "percent") == 60.0
    assert ev.compare(120, 100, "percent") == 20.0
    assert ev.compare(120, 0, "percent") is None


def test_active_hours_in_new_york_including_the_day_and_dst() -> None:
    c = check(
        active_hours={
            "between": "06:00-23:00",
            "timezone": "America/New_York",
            "days": ["mon", "tue", "wed", "thu", "fri"],
        }
    )
    hours = c.active_hours
    # 09:00 EST on a Tuesday; 05:59; 23:00 (end is exclusive); a Saturday.
    assert ev.in_active_hours(hours, datetime(2026, 11, 17, 14, 0, tzinfo=UTC))
    assert not ev.in_active_hours(hours, datetime(2026, 11, 17, 10, 59, tzinfo=UTC))
    assert not ev.in_active_hours(hours, datetime(2026, 11, 18, 4, 0, tzinfo=UTC))
    assert not ev.in_active_hours(hours, datetime(2026, 11, 21, 14, 0, tzinfo=UTC))
    # In July New York is UTC-4: 10:30 UTC is 06:30 local.
    assert ev.in_active_hours(hours, datetime(2026, 7, 14, 10, 30, tzinfo=UTC))


def test_an_overnight_window_wraps_past_midnight() -> None:
    c = check(active_hours={"between": "22:00-06:00", "timezone": "UTC", "days": ["mon"]})
    assert ev.in_active_hours(c.active_hours, datetime(2026, 11, 16, 23, 0, tzinfo=UTC))  # Mon
    assert ev.in_active_hours(c.active_hours, datetime(2026, 11, 17, 5, 0, tzinfo=UTC))  # Tue early
    assert not ev.in_active_hours(c.active_hours, datetime(2026, 11, 17, 23, 0, tzinfo=UTC))


def test_interval_slots_keep_their_grid_and_skip_missed_ones() -> None:
    s = ScheduleConfig.model_validate({"every": "5m"})
    assert ev.first_slot(s, NOW) == NOW
    assert ev.next_slot(s, NOW, NOW + timedelta(seconds=3)) == NOW + timedelta(minutes=5)
    # After an hour's downtime the next slot is the next one on the grid, not a backlog.
    assert ev.next_slot(s, NOW, NOW + timedelta(minutes=61)) == NOW + timedelta(minutes=65)


def test_cron_slots_follow_their_zone() -> None:
    s = ScheduleConfig.model_validate({"cron": "0 9 * * *", "timezone": "America/New_York"})
    assert ev.first_slot(s, NOW) == datetime(2026, 11, 18, 14, 0, tzinfo=UTC)
    assert ev.next_slot(s, datetime(2026, 11, 18, 14, 0, tzinfo=UTC), NOW) == datetime(
        2026, 11, 19, 14, 0, tzinfo=UTC
    )


def test_relative_params_come_from_the_clock() -> None:
    got = ev.resolve_params(
        {"since": "now-10m", "day": "today", "month": "today-30d", "at": "now"}, NOW, "UTC"
    )
    assert got == {
        "since": NOW - timedelta(minutes=10),
        "day": datetime(2026, 11, 17, tzinfo=UTC),
        "month": datetime(2026, 10, 18, tzinfo=UTC),
        "at": NOW,
    }
    ny = ev.resolve_params({"day": "today"}, NOW, "America/New_York")
    assert ny["day"] == datetime(2026, 11, 17, 5, 0, tzinfo=UTC)


def test_message_templates_render_row_columns() -> None:
    c = check(
        message="{{ urgent_count }} urgent items, oldest is {{ oldest }} minutes old",
        value="urgent_count",
    )
    assert run(c, [{"urgent_count": 3, "oldest": 130}])[0].message == (
        "3 urgent items, oldest is 130 minutes old"
    )


@pytest.mark.parametrize(
    ("how", "expected"), [("avg", 2.5), ("median", 2.5), ("min", 1), ("max", 4), ("p95", 4)]
)
def test_history_aggregates(how: str, expected: float) -> None:
    assert ev.aggregate([1, 2, 3, 4], how) == expected


def prometheus_titles(c: CheckConfig, series: list[dict[str, Any]]) -> list[str]:
    results = ev.evaluate_rows(
        c, series, dialect="prometheus", now=NOW, previous={}, pending={}, baselines=None
    )
    return [r.title for r in results]


def test_a_prometheus_title_names_only_the_labels_that_tell_its_series_apart() -> None:
    c = check(name="node_down", conditions=[{"when": "== 0", "severity": "HIGH"}])
    down = {"__name__": "up", "job": "node", "env": "prod", "value": 0}
    series = [{**down, "instance": f"db-{i}:9100"} for i in (1, 2)]
    assert prometheus_titles(c, series) == ["Node down (db-1:9100)", "Node down (db-2:9100)"]
    assert prometheus_titles(c, series[:1]) == ["Node down"]  # one series: its labels say it
    (result,) = ev.evaluate_rows(
        c, series[:1], dialect="prometheus", now=NOW, previous={}, pending={}
    )
    assert result.labels == {
        "__name__": "up",
        "env": "prod",
        "instance": "db-1:9100",
        "job": "node",
    }


def test_a_prometheus_title_names_at_most_three_labels_and_a_configured_key_all() -> None:
    c = check(name="disk_full", conditions=[{"when": "> 90", "severity": "HIGH"}])
    series = [{"a": f"a{i}", "b": f"b{i}", "c": f"c{i}", "d": f"d{i}", "value": 95} for i in (1, 2)]
    assert prometheus_titles(c, series)[0] == "Disk full (a1, b1, c1)"
    keyed = check(name="disk_full", conditions=c.model_dump()["conditions"], key=["d", "a"])
    assert prometheus_titles(keyed, series)[0] == "Disk full (d1, a1)"


def test_a_long_check_title_is_cut_with_an_ellipsis_and_kept_in_the_message() -> None:
    c = check(title="{{ note }}", message="queue is long", value="n")
    (result,) = run(c, [{"n": 12, "note": "Queue stalled: " + "q" * 400}])
    assert result.title == "Queue stalled: " + "q" * 284 + "…"
    assert result.message == "Queue stalled: " + "q" * 400 + "\n\nqueue is long"
