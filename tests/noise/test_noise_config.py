"""The noise-control configuration keys: defaults, and every mistake named by file and line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tocsin.config import parse
from tocsin.errors import ConfigError

GOOD = """
grouping: {group_wait: 2m}
inhibit_rules:
  - source_matchers: ['check="db_unreachable"']
    target_matchers: ['check!="db_unreachable"']
    equal: [service]
known_issues:
  - id: PRINT-2025-11-16-001
    matchers: ['service="printful_api"']
    message_contains: timeout
    expires_at: 2026-11-17T15:00:00Z
    reason: Printful degraded
flapping: {threshold: 3}
silences:
  - {id: backup, matchers: ['check="backup"'], starts_at: 2026-11-01T00:00:00Z,
     ends_at: 2027-11-01T00:00:00Z, comment: weekly backup, every: "0 2 * * sun",
     duration: 2h, timezone: Europe/Paris}
maintenance:
  - {id: migration, title: DB migration, services: [payments], starts_at: 2026-11-22T02:00:00Z,
     ends_at: 2026-11-22T04:00:00Z}
"""


def test_the_noise_keys_parse_with_alertmanager_like_defaults() -> None:
    config, _ = parse(GOOD, "t.yaml", env={})
    assert config.grouping is not None
    assert config.grouping.by == ["service", "check"]
    assert config.grouping.group_wait == timedelta(minutes=2)
    assert config.grouping.group_interval == timedelta(minutes=5)
    assert config.grouping.repeat_interval == timedelta(hours=4)
    assert config.flapping is not None
    assert (config.flapping.threshold, config.flapping.window) == (3, timedelta(hours=1))
    assert config.silences[0].duration == timedelta(hours=2)
    empty, _ = parse("{}", "t.yaml", env={})
    assert (empty.grouping, empty.flapping, empty.inhibit_rules) == (None, None, [])


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("check!=", 'check=~"(" #'), "t.yaml:5: inhibit_rules[0].target_matchers: "),
        (
            ("2026-11-17T15:00:00Z", "2026-11-17T15:00:00"),
            "t.yaml:11: known_issues[0].expires_at: 2026-11-17T15:00:00 has no time zone",
        ),
        (
            ("{threshold: 3}", "{threshhold: 3}"),
            "t.yaml:13: flapping.threshhold: unknown field "
            "'threshhold' (did you mean 'threshold'?)",
        ),
        (
            ("duration: 2h, ", ""),
            "t.yaml:15: silences[0]: 'every' (a cron expression) and 'duration' go together",
        ),
        (
            ("services: [payments]", "services: []"),
            "t.yaml:19: maintenance[0].services: List should have at least 1 item",
        ),
    ],
)
def test_mistakes_are_named_with_file_and_line(change: tuple[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(GOOD.replace(*change), "t.yaml", env={})
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_known_issue_ids_are_unique_and_need_a_pattern() -> None:
    text = GOOD.replace(
        "flapping:",
        "  - {id: PRINT-2025-11-16-001, message_regex: x, expires_at: 2026-11-18T00:00:00Z,"
        " reason: again}\n  - {id: K-2, expires_at: 2026-11-18T00:00:00Z, reason: none}\n"
        "flapping:",
    )
    with pytest.raises(ConfigError) as caught:
        parse(text, "t.yaml", env={})
    # Both in one pass (issue 12, item 4): the duplicate is found among the entries that
    # validated while the invalid one is named.
    assert caught.value.problems == [
        "t.yaml:13: known_issues[1].id: 'PRINT-2025-11-16-001' is already the id of "
        "known_issues[0]",
        "t.yaml:14: known_issues[2]: give 'matchers', 'message_contains' or 'message_regex'",
    ]
    text = text.replace("  - {id: K-2, expires_at: 2026-11-18T00:00:00Z, reason: none}\n", "")
    with pytest.raises(ConfigError) as caught:
        parse(text, "t.yaml", env={})
    assert caught.value.problems == [
        "t.yaml:13: known_issues[1].id: 'PRINT-2025-11-16-001' is already the id of known_issues[0]"
    ]
