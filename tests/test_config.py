"""Configuration: every mistake named by file, line and field; secrets from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tocsin import config as configuration
from tocsin.errors import ConfigError

GOOD = """\
sources:
  shop:
    type: sql
    url: ${SHOP_URL}
channels:
  console: {type: console}
checks:
  - name: error_rate
    source: shop
    schedule: {every: 1m}
    query: SELECT 1 AS value
    conditions:
      - {when: ">= 10", severity: HIGH, clear: "< 5"}
      - {when: ">= 5", severity: WARNING}
"""
ENV = {"SHOP_URL": "postgresql://app:hunter22@db/shop"}


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        configuration.parse(text, "tocsin.yaml", ENV if env is None else env)
    return caught.value.problems


def test_a_good_file_loads_with_secrets_from_the_environment() -> None:
    config, secrets = configuration.parse(GOOD, "tocsin.yaml", ENV)
    assert config.sources["shop"].url == "postgresql://app:hunter22@db/shop"  # type: ignore[union-attr]
    assert config.checks[0].schedule.every == timedelta(minutes=1)
    assert secrets == {"postgresql://app:hunter22@db/shop"}


def test_a_misspelt_severity_names_line_and_field() -> None:
    text = GOOD.replace("severity: WARNING", "severity: CRITCAL")
    assert problems(text) == [
        "tocsin.yaml:14: checks[0].conditions[1].severity: 'CRITCAL' is not one of "
        "CRITICAL, HIGH, WARNING, INFO"
    ]


def test_an_unknown_key_is_an_error_with_a_suggestion() -> None:
    text = GOOD.replace("    schedule: {every: 1m}", "    schedule: {every: 1m}\n    fro: 5m")
    assert problems(text) == [
        "tocsin.yaml:11: checks[0].fro: unknown field 'fro' (did you mean 'for'?)"
    ]


def test_a_missing_environment_variable_is_named() -> None:
    assert problems(GOOD, env={}) == [
        "tocsin.yaml:4: sources.shop.url: environment variable SHOP_URL is not set"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("{every: 1m}", "{cron: '61 * * * *'}"),
            "tocsin.yaml:10: checks[0].schedule: '61 * * * *' is not a valid cron expression",
        ),
        (
            ("{every: 1m}", "{every: soon}"),
            "tocsin.yaml:10: checks[0].schedule.every: 'soon' is not a duration like 30s, 5m, "
            "1h30m, 7d",
        ),
        (
            ("{every: 1m}", "{every: 1m, timezone: Mars/Olympus}"),
            "tocsin.yaml:10: checks[0].schedule.timezone: 'Mars/Olympus' is not a known time "
            "zone (e.g. America/New_York)",
        ),
        (
            ("source: shop", "source: warehouse"),
            "tocsin.yaml:9: checks[0].source: source 'warehouse' does not exist (known: shop)",
        ),
        (
            ("type: sql", "type: oracle"),
            "tocsin.yaml:3: sources.shop: type 'oracle' is not one of 'sql', 'http', 'prometheus'",
        ),
        (
            ('when: ">= 10"', 'when: ">= (10"'),
            "tocsin.yaml:13: checks[0].conditions[0].when: '>= (10' is not a valid expression: "
            "unexpected end of template, expected ')'.",
        ),
    ],
)
def test_each_kind_of_mistake_is_named(change: tuple[str, str], expected: str) -> None:
    assert problems(GOOD.replace(*change)) == [expected]


def test_malformed_yaml_names_the_line() -> None:
    found = problems(GOOD.replace("  console: {type: console}", "  console: {type: console"))
    assert len(found) == 1
    assert found[0].startswith("tocsin.yaml:")
    assert "not valid YAML" in found[0]


def test_wrong_types_and_several_problems_are_all_reported() -> None:
    text = GOOD.replace("{every: 1m}", "[1, 2]").replace("name: error_rate", "name: 42x y")
    found = problems(text)
    assert len(found) == 2
    assert found[0].startswith("tocsin.yaml:8: checks[0].name: ")
    assert found[1].startswith("tocsin.yaml:10: checks[0].schedule: ")


def test_duplicate_check_names_and_unknown_channels_are_errors() -> None:
    second = GOOD.split("checks:\n", 1)[1].replace(
        '      - {when: ">= 5", severity: WARNING}\n', ""
    )
    text = GOOD + second.replace("    conditions:", "    notify: [pager]\n    conditions:")
    found = problems(text)
    assert (
        found[0] == "tocsin.yaml:15: checks[1].name: 'error_rate' is already the name of checks[0]"
    )
    assert found[1].startswith("tocsin.yaml:19: checks[1].notify: channel 'pager' does not exist")


def test_show_masks_secrets_and_url_passwords(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yaml"
    path.write_text(GOOD.replace("url: ${SHOP_URL}", "url: ${SHOP_URL}\n    statement_timeout: 5s"))
    loaded = configuration.load(path, env=ENV)
    shown = str(configuration.masked(loaded))
    assert "hunter22" not in shown
    assert "****" in shown


def test_the_database_url_from_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yaml"
    path.write_text(GOOD + "store:\n  url: sqlite:///file.db\n")
    assert configuration.load(path, env=ENV).database_url == "sqlite:///file.db"
    env = {**ENV, "TOCSIN_DATABASE_URL": "postgresql+psycopg://x@h/db"}
    assert configuration.load(path, env=env).database_url == "postgresql+psycopg://x@h/db"


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        configuration.load(tmp_path / "missing.yaml", env={})


@pytest.mark.parametrize("text", ["5m", "1h30m", "90s", "7d", "250ms"])
def test_durations_parse(text: str) -> None:
    assert configuration.parse_duration(text) > timedelta(0)


@pytest.mark.parametrize("text", ["", "5", "m5", "5 minutes", "1h 30m", "-5m"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        configuration.parse_duration(text)
