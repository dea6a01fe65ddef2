"""`tocsin config validate|show|schema` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tocsin.cli import app

runner = CliRunner()

# Nine different mistakes, each marked with the line it is on.
NINE_MISTAKES = """\
sources:
  shop:
    type: sql
    url: ${SHOP_DATABASE_URL}
    statement_timeout: soon
channels:
  console: {type: console}
  pager: {type: pagerduty, routing_key: abc, colour: red}
checks:
  - name: error_rate
    source: shop
    schedule: {every: 1m}
    query: SELECT 1 AS value
    notify: [discord]
    conditions:
      - {when: ">= 10", severity: CRITCAL}
      - {when: ">= 5", severity: WARNING}
  - name: error_rate
    source: warehouse
    schedule: {every: 1m}
    query: SELECT 1 AS value
    conditions: [{when: ">= 10", severity: HIGH}]
routes:
  notify: [console]
  escalation: critcal
escalation_policies:
  critical:
    steps:
      - {after: 0m, notify: ["schedule:nights"]}
"""


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def nine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    path = tmp_path / "tocsin.yaml"
    path.write_text(NINE_MISTAKES)
    return path


def test_validate_names_nine_different_mistakes_in_one_run_sorted_by_line(nine: Path) -> None:
    code, out = invoke("config", "validate", str(nine))
    assert code == 1
    f = str(nine)
    assert out.splitlines() == [
        f"{f}:4: sources.shop.url: environment variable SHOP_DATABASE_URL is not set",
        f"{f}:5: sources.shop.statement_timeout: 'soon' is not a duration like 30s, 5m, 1h30m, 7d",
        f"{f}:8: channels.pager.colour: unknown field 'colour'",
        f"{f}:14: checks[0].notify: channel 'discord' does not exist (known: console, pager)",
        f"{f}:16: checks[0].conditions[0].severity: 'CRITCAL' is not one of CRITICAL, HIGH, "
        "WARNING, INFO",
        f"{f}:18: checks[1].name: 'error_rate' is already the name of checks[0]",
        f"{f}:19: checks[1].source: source 'warehouse' does not exist (known: shop)",
        f"{f}:25: routes.escalation: policy 'critcal' does not exist (known: critical)",
        f"{f}:29: escalation_policies.critical.steps[0].notify: target 'schedule:nights': "
        "schedule 'nights' does not exist (known: none are defined)",
        "error: 9 problem(s) in the configuration; nothing was changed",
    ]


def test_validate_takes_the_file_as_an_argument_or_with_c(nine: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("channels:\n  console: {type: console}\n")
    assert invoke("config", "validate", str(good)) == (
        0,
        f"{good}: valid — 0 sources, 0 checks, 1 channels\n",
    )
    assert invoke("config", "validate", "-c", str(good))[0] == 0
    assert invoke("config", "validate", str(good), "-c", str(good))[0] == 0
    code, out = invoke("config", "validate", str(good), "-c", str(nine))
    assert code == 1
    assert "two files given" in out
