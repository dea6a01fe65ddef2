"""`tocsin check run` heads its table with what fires, never a bare "ok" above a WARNING."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.shop import ValueTable
from typer.testing import CliRunner

from tocsin.cli import app

runner = CliRunner()


def config(tmp_path: Path, shop: ValueTable, extra: str) -> str:
    path = tmp_path / "tocsin.yaml"
    path.write_text(f"""\
store: {{url: "sqlite:///{tmp_path / "store.db"}"}}
sources:
  shop: {{type: sql, url: "{shop.url}"}}
channels:
  console: {{type: console}}
checks:
  - name: error_rate
    source: shop
    schedule: {{every: 1m}}
    query: SELECT value FROM metric WHERE name = 'error_rate'
    conditions:
      - {{when: ">= 10", severity: HIGH}}
      - {{when: ">= 5", severity: WARNING}}
{extra}""")
    assert runner.invoke(app, ["db", "upgrade", "-c", str(path)]).exit_code == 0
    return str(path)


@pytest.mark.parametrize(
    ("value", "extra", "head"),
    [
        (7, "", "error_rate: fires WARNING in "),
        (12, "", "error_rate: fires HIGH in "),
        (7, "    for: 2m\n", "error_rate: pending WARNING in "),
        (2, "", "error_rate: all clear in "),
    ],
)
def test_the_first_line_says_what_fires(
    value: float, extra: str, head: str, tmp_path: Path
) -> None:
    shop = ValueTable(tmp_path / "shop.db")
    shop.set("error_rate", value)
    path = config(tmp_path, shop, extra)
    result = runner.invoke(app, ["check", "run", "error_rate", "-c", path])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith(head)
    assert " ok " not in first
