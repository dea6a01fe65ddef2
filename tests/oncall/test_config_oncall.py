"""The `users:` and `schedules:` sections: every mistake named by file, line and field."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from tocsin.config import TocsinConfig, parse
from tocsin.errors import ConfigError

GOOD = """\
users:
  ana: {name: Ana Ruiz, email: ana@example.com, phone: "+15550100001", slack: U0ANA,
        discord: 111111111111111111, timezone: Europe/Madrid}
  ben: {email: ben@example.com}
schedules:
  primary:
    timezone: America/New_York
    layers:
      - name: weekly
        start: 2026-11-02
        rotation: weekly
        handoff: 9:30
        participants: [ana, ben]
        restrict: {between: "09:00-17:00", days: [mon, tue, wed, thu, fri]}
    backup: secondary
  secondary:
    layers:
      - {name: days, start: "2026-11-02T08:00", rotation: 36h, participants: [ben]}
"""


def load(text: str) -> TocsinConfig:
    return parse(text, "oncall.yaml", env={})[0]


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(text)
    return caught.value.problems


def test_a_good_on_call_section_loads() -> None:
    config = load(GOOD)

    layer = config.schedules["primary"].layers[0]
    # A wall time in the schedule's zone; a bare date starts at the handoff.
    assert layer.start == datetime(2026, 11, 2, 9, 30)  # noqa: DTZ001
    assert layer.rotation == timedelta(weeks=1)
    assert layer.handoff == time(9, 30)  # unquoted 9:30 is base-60 570 to YAML; read back
    assert config.schedules["secondary"].layers[0].rotation == timedelta(hours=36)
    assert config.users["ana"].discord == "111111111111111111"
    assert config.users["ben"].name is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("participants: [ana, ben]", "participants: [ana, bob]"),
            "oncall.yaml:13: schedules.primary.layers[0].participants[1]: user 'bob' does not "
            "exist (known: ana, ben)",
        ),
        (
            ("backup: secondary", "backup: tertiary"),
            "oncall.yaml:15: schedules.primary.backup: schedule 'tertiary' does not exist "
            "(known: primary, secondary)",
        ),
        (
            ("backup: secondary", "backup: primary"),
            "oncall.yaml:15: schedules.primary.backup: a schedule cannot be its own backup",
        ),
        (
            ("rotation: weekly", "rotation: fortnightly"),
            "oncall.yaml:11: schedules.primary.layers[0].rotation: 'fortnightly' is not a "
            "duration like 30s, 5m, 1h30m, 7d",
        ),
        (
            ("rotation: 36h", "rotation: 10m"),
            "oncall.yaml:18: schedules.secondary.layers[0].rotation: '10m' is shorter than the "
            "shortest rotation, 1h",
        ),
        (
            ("handoff: 9:30", "handoff: '25:00'"),
            "oncall.yaml:12: schedules.primary.layers[0].handoff: '25:00' is not a time of day "
            "like '09:00'",
        ),
        (
            ("start: 2026-11-02\n", "start: 2026-11-02T10:00\n"),
            "oncall.yaml:9: schedules.primary.layers[0]: start 2026-11-02T10:00 is not at the "
            "handoff time 09:30; give a start at the handoff (or a bare date)",
        ),
        (
            ('"2026-11-02T08:00"', '"2026-11-02T08:00-05:00"'),
            "oncall.yaml:18: schedules.secondary.layers[0].start: give the local time without "
            "an offset; it is read in the schedule's timezone",
        ),
        (
            ('phone: "+15550100001"', "phone: 555-0100"),
            "oncall.yaml:2: users.ana.phone: '555-0100' is not a phone number in E.164 form "
            "like +15550100",
        ),
        (
            ("slack: U0ANA", "slack: '@ana'"),
            "oncall.yaml:2: users.ana.slack: '@ana' is not a Slack member id like U0123ABCD",
        ),
        (
            ('"09:00-17:00"', '"9am-5pm"'),
            "oncall.yaml:14: schedules.primary.layers[0].restrict.between: '9am-5pm' is not a "
            "window like '06:00-23:00'",
        ),
        (
            ("        participants: [ana, ben]\n", "        participant: [ana, ben]\n"),
            "oncall.yaml:13: schedules.primary.layers[0].participant: unknown field "
            "'participant' (did you mean 'participants'?)",
        ),
        (
            ("timezone: America/New_York", "timezone: Eastern"),
            "oncall.yaml:7: schedules.primary.timezone: 'Eastern' is not a known time zone "
            "(e.g. America/New_York)",
        ),
    ],
)
def test_a_mistake_is_named_by_line_and_field(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    assert expected in problems(GOOD.replace(old, new))


def test_a_repeated_layer_name_is_refused() -> None:
    text = GOOD.replace("name: days", "name: weekly").replace(
        "      - {name: weekly, start",
        "      - {name: x, start: 2026-11-02, rotation: 1d, participants: [ben]}\n"
        "      - {name: x, start",
    )

    assert problems(text) == [
        "oncall.yaml:19: schedules.secondary.layers[1].name: layer 'x' is repeated"
    ]
