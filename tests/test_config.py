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


LITERAL_SECRETS = """\
secret_key: "a-literal-signing-key-0123456789abcdef"
channels:
  discord: {type: discord, url: "https://discord.com/api/webhooks/1234567890/D1sc0rdT0ken0abc"}
  slack: {type: slack, url: "https://hooks.slack.com/services/T0AAA1/B0BBB2/Sl4ckT0kenXyz789"}
  pager: {type: pagerduty, routing_key: R0utingKey0123456789}
  hook: {type: webhook, url: "https://ops.example/hook?signature=s1gnat", secret: h00k-s3cret,
         headers: {X-Api-Key: ap1-key-v4lue, X-Team: ops}}
  mail: {type: email, host: smtp.example, password: smtp-pa55, from_address: a@example.com,
         to: [b@example.com]}
sources:
  api: {type: http, url: "https://probe:pr0be-pw@status.example/health?api_key=pr0be-key"}
"""


def test_show_masks_secrets_written_in_the_file_too(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yaml"
    path.write_text(LITERAL_SECRETS)

    shown = str(configuration.masked(configuration.load(path, env={})))

    for secret in (
        "a-literal-signing-key", "D1sc0rdT0ken0abc", "Sl4ckT0kenXyz789", "R0utingKey0123456789",
        "s1gnat", "h00k-s3cret", "ap1-key-v4lue", "smtp-pa55", "pr0be-pw", "pr0be-key",
    ):  # fmt: skip
        assert secret not in shown
    assert "https://discord.com/api/webhooks/1234567890/****" in shown
    assert "https://ops.example/hook?signature=****" in shown
    assert "'X-Team': 'ops'" in shown  # what is not secret stays readable


def test_show_prints_the_store_url_in_effect_masked(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yaml"
    path.write_text(GOOD + "store:\n  url: sqlite:///file.db\n")
    env = {**ENV, "TOCSIN_DATABASE_URL": "postgresql+psycopg://tocsin:st0re-pw@h/db"}

    shown = configuration.masked(configuration.load(path, env=env))

    assert shown["store"]["url"] == "postgresql+psycopg://tocsin:****@h/db"


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


def test_an_unset_variable_in_a_typed_field_is_one_problem_not_two() -> None:
    text = GOOD.replace("{every: 1m}", "{every: '${EVERY}'}")
    assert problems(text) == [
        "tocsin.yaml:10: checks[0].schedule.every: environment variable EVERY is not set"
    ]


def test_an_unknown_key_of_a_source_is_compared_with_its_own_type_fields() -> None:
    text = GOOD.replace("    url: ${SHOP_URL}\n", "    url: ${SHOP_URL}\n    timeout: 5s\n")
    assert problems(text) == [
        "tocsin.yaml:5: sources.shop.timeout: unknown field 'timeout' (did you mean "
        "'statement_timeout'?)"
    ]


def test_a_reference_to_an_invalid_entry_is_not_called_missing() -> None:
    # The source is left out of the cross-checks whole; the check naming it is not wrong.
    assert problems(GOOD.replace("type: sql", "type: oracle")) == [
        "tocsin.yaml:3: sources.shop: type 'oracle' is not one of 'sql', 'http', 'prometheus'"
    ]
    text = GOOD.replace("    type: sql\n", "    type: sql\n    statement_timeout: soon\n")
    text = text.replace("source: shop", "source: shop\n    notify: [pager]")
    found = problems(text)
    assert [p.split(": ", 2)[1] for p in found] == [
        "sources.shop.statement_timeout",
        "checks[0].notify",
    ]


def test_a_check_with_one_bad_condition_still_counts_when_names_are_compared() -> None:
    text = GOOD.replace("severity: HIGH", "severity: HIHG").replace(
        "  console: {type: console}\n", "  console: {type: console}\n  mail: {type: email}\n"
    )
    text += "  - name: error_rate\n    source: shop\n    schedule: {every: 1m}\n"
    text += "    query: SELECT 1\n    conditions: [{when: '> 1', severity: INFO}]\n"
    found = problems(text)
    assert [p.split(": ", 2)[0:2] for p in found] == [
        ["tocsin.yaml:7", "channels.mail.host"],
        ["tocsin.yaml:7", "channels.mail.from_address"],
        ["tocsin.yaml:7", "channels.mail.to"],
        ["tocsin.yaml:14", "checks[0].conditions[0].severity"],
        ["tocsin.yaml:16", "checks[1].name"],
    ]
