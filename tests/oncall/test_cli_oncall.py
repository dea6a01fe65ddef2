"""`tocsin oncall …` as a user runs it, on the shipped example schedules and a real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.cli import oncall as oncall_cli
from tocsin.clock import VirtualClock
from tocsin.config import parse

runner = CliRunner()
EXAMPLE = resources.files("tocsin.examples").joinpath("oncall.yaml").read_text("utf-8")
# The test clock: Tuesday 2026-11-17 09:00 New York, the third week of the engineer rotation.
NOW = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)


@pytest.fixture
def config_path(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(oncall_cli, "clock", VirtualClock(NOW))
    path = tmp_path / "tocsin.yaml"
    path.write_text(f'store: {{url: "{store_url}"}}\n{EXAMPLE}', encoding="utf-8")
    return str(path)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["oncall", *args])
    return result.exit_code, result.output


def invoke_json(*args: str) -> list[dict[str, object]]:
    code, out = invoke(*args, "--json")
    assert code == 0, out
    data: list[dict[str, object]] = json.loads(out)
    return data


def primary_of(config_path: str, *args: str) -> object:
    (row,) = invoke_json("who", "engineer", "-c", config_path, *args)
    return row["primary"]["user"]  # type: ignore[index]


def test_the_example_schedules_are_valid() -> None:
    config, _ = parse(EXAMPLE, "oncall.yaml", env={})
    assert set(config.schedules) == {"engineer", "senior", "cto", "ceo", "security"}
    assert config.schedules["engineer"].backup == "senior"


def test_who_names_the_primary_and_the_backup(config_path: str) -> None:
    (row,) = invoke_json("who", "engineer", "-c", config_path)

    assert row["primary"] == {
        "user": "dev",
        "name": "Dev Patel",
        "start": "2026-11-17T14:00:00Z",  # when the Paris engineer's morning ended
        "end": "2026-11-18T08:00:00Z",  # when the next one begins
        "source": "weekly",
    }
    assert row["backup_schedule"] == "senior"
    assert row["backup"]["user"] == "sec"  # type: ignore[index]


def test_who_without_a_schedule_shows_them_all(config_path: str) -> None:
    code, out = invoke("who", "-c", config_path)

    assert code == 0, out
    for name in ("engineer", "senior", "cto", "ceo", "security", "Dev Patel"):
        assert name in out


def test_who_at_a_local_time_reads_it_in_the_schedules_zone(config_path: str) -> None:
    # 04:00 New York on a weekday is inside the Paris engineer's layer.
    assert primary_of(config_path, "--at", "2026-11-18T04:00") == "chloe"
    assert primary_of(config_path, "--at", "2026-11-18T04:00:00+00:00") == "dev"
    assert primary_of(config_path, "--at", "now+7d") == "ana"


def test_list_shows_the_shifts_with_layers_on_top(config_path: str) -> None:
    rows = invoke_json("list", "engineer", "--days", "2", "-c", config_path)

    assert [(r["user"], r["start"]) for r in rows] == [
        ("dev", "2026-11-17T14:00:00Z"),
        ("chloe", "2026-11-18T08:00:00Z"),
        ("dev", "2026-11-18T14:00:00Z"),
        ("chloe", "2026-11-19T08:00:00Z"),
    ]


def test_taking_the_rest_of_a_shift_and_giving_it_back(config_path: str) -> None:
    code, out = invoke("override", "engineer", "--by", "ben", "--reason", "swap", "-c", config_path)
    assert code == 0, out
    assert "covers engineer from Tue 2026-11-17 09:00 EST to Wed 2026-11-18 03:00 EST" in out

    assert primary_of(config_path) == "ben"
    (listed,) = invoke_json("overrides", "-c", config_path)
    assert (listed["user"], listed["created_by"], listed["reason"]) == ("ben", "ben", "swap")

    code, out = invoke("override", "--delete", str(listed["id"]), "-c", config_path)
    assert code == 0, out
    assert primary_of(config_path) == "dev"
    assert invoke_json("overrides", "--all", "-c", config_path) == []


def test_handing_over_a_range_to_someone_else(config_path: str) -> None:
    code, out = invoke(
        "override", "engineer", "--user", "ana", "--by", "dev", "--start", "now+1h",
        "--for", "2h", "-c", config_path,
    )  # fmt: skip
    assert code == 0, out

    assert primary_of(config_path) == "dev"
    assert primary_of(config_path, "--at", "now+2h") == "ana"
    assert primary_of(config_path, "--at", "now+3h") == "dev"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["engineer", "--by", "zed"], "user 'zed' does not exist"),
        (["nope", "--by", "ana"], "schedule 'nope' does not exist"),
        (["engineer", "--by", "ana", "--end", "now-1h"], "before it starts"),
        (["engineer", "--by", "ana", "--end", "now+1h", "--for", "1h"], "not both"),
        (["engineer"], "--by"),
        (["--delete", "999"], "override 999 does not exist"),
    ],
)
def test_a_bad_override_is_refused_and_changes_nothing(
    config_path: str, args: list[str], error: str
) -> None:
    code, out = invoke("override", *args, "-c", config_path)

    assert code == 1
    assert error in out
    assert invoke_json("overrides", "--all", "-c", config_path) == []


def test_a_bad_time_is_a_usage_error(config_path: str) -> None:
    code, out = invoke("who", "engineer", "--at", "tomorrowish", "-c", config_path)

    assert code == 2
    assert "is not 'now', 'now+2h' or an ISO time" in out


def test_the_calendar_export_parses_and_keeps_its_uids(
    config_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    code, out = invoke("ical", "engineer", "--days", "14", "-o", str(first), "-c", config_path)
    assert code == 0, out
    monkeypatch.setattr(oncall_cli, "clock", VirtualClock(NOW + timedelta(days=3)))
    code, out = invoke("ical", "engineer", "--days", "14", "-o", str(second), "-c", config_path)
    assert code == 0, out

    def events(path: Path) -> dict[str, tuple[datetime, datetime, str]]:
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        return {
            str(e["UID"]): (e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"]))
            for e in calendar.walk("VEVENT")
        }

    a, b = events(first), events(second)
    assert a[min(a, key=lambda uid: a[uid][0])] == (
        datetime(2026, 11, 17, 14, tzinfo=UTC),
        datetime(2026, 11, 18, 8, tzinfo=UTC),
        "Dev Patel on call (engineer)",
    )
    shared = set(a) & set(b)
    assert len(shared) >= 5
    assert all(a[uid] == b[uid] for uid in shared)
    assert "Chloé Martin on call (engineer)" in {summary for _, _, summary in a.values()}
