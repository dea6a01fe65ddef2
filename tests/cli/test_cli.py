"""The CLI as a user runs it: exit codes, messages, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.shop import ValueTable
from typer.testing import CliRunner

from tocsin import store as versions
from tocsin.cli import app

runner = CliRunner()


def write_config(tmp_path: Path, store_url: str, shop: ValueTable, extra: str = "") -> Path:
    path = tmp_path / "tocsin.yaml"
    path.write_text(f"""\
store: {{url: "{store_url}"}}
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
{extra}""")
    return path


@pytest.fixture
def shop(tmp_path: Path) -> ValueTable:
    table = ValueTable(tmp_path / "shop.db")
    table.set("error_rate", 12)
    return table


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_validate_reports_every_problem_and_exits_1(tmp_path: Path, shop: ValueTable) -> None:
    path = write_config(tmp_path, "sqlite:///x.db", shop).read_text().replace("HIGH", "HIHG")
    (tmp_path / "bad.yaml").write_text(path)
    code, out = invoke("config", "validate", "-c", str(tmp_path / "bad.yaml"))
    assert code == 1
    assert "bad.yaml:12: checks[0].conditions[0].severity: 'HIHG' is not one of" in out
    assert "nothing was changed" in out


def test_validate_accepts_a_good_file(tmp_path: Path, shop: ValueTable) -> None:
    code, out = invoke(
        "config", "validate", "-c", str(write_config(tmp_path, "sqlite:///x.db", shop))
    )
    assert code == 0
    assert "valid — 1 sources, 1 checks, 1 channels" in out


def test_run_refuses_a_store_that_is_behind(tmp_path: Path, shop: ValueTable) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}", shop)
    code, out = invoke("run", "--once", "-c", str(path))
    assert code == 1
    assert "Run `tocsin db upgrade` first" in out
    code, out = invoke("db", "upgrade", "-c", str(path))
    assert code == 0
    assert f"empty → {versions.head()}" in out


def test_check_run_prints_without_changing_anything(
    tmp_path: Path, store_url: str, shop: ValueTable
) -> None:
    path = write_config(tmp_path, store_url, shop)
    code, out = invoke("check", "run", "error_rate", "-c", str(path), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["status"] == "ok"
    assert result["results"][0]["severity"] == "HIGH"
    code, out = invoke("alerts", "list", "-c", str(path), "--json")
    assert json.loads(out) == []


def test_check_run_of_an_unknown_check_names_the_known_ones(
    tmp_path: Path, store_url: str, shop: ValueTable
) -> None:
    code, out = invoke("check", "run", "nope", "-c", str(write_config(tmp_path, store_url, shop)))
    assert code == 1
    assert "no check named 'nope' (known: error_rate)" in out


def test_run_once_then_list_show_ack_resolve(
    tmp_path: Path, store_url: str, shop: ValueTable
) -> None:
    path = str(write_config(tmp_path, store_url, shop))
    assert invoke("run", "--once", "-c", path)[0] == 0
    code, out = invoke("alerts", "list", "--state", "firing", "--json", "-c", path)
    (alert,) = json.loads(out)
    assert (alert["severity"], alert["title"]) == ("HIGH", "Error rate")
    ident = str(alert["id"])
    assert invoke("alerts", "ack", ident, "--by", "ana", "-c", path) == (
        0,
        f"alert {ident} acknowledged by ana\n",
    )
    code, out = invoke("alerts", "ack", ident, "--by", "bob", "-c", path)
    assert code == 1
    assert "cannot acknowledge alert" in out
    assert invoke("alerts", "resolve", ident, "--by", "ana", "-c", path)[0] == 0
    code, out = invoke("alerts", "show", ident, "--json", "-c", path)
    shown = json.loads(out)
    assert [e["kind"] for e in shown["timeline"]] == ["fired", "acknowledged", "resolved"]
    # The ack and resolve notices are in the outbox; only a running worker sends them.
    assert sorted((n["event"], n["state"]) for n in shown["notifications"]) == [
        ("acknowledged", "pending"),
        ("fired", "sent"),
        ("resolved", "pending"),
    ]
    code, out = invoke("alerts", "list", "--state", "bogus", "-c", path)
    assert code == 2


def test_show_of_a_missing_alert_is_a_clear_error(
    tmp_path: Path, store_url: str, shop: ValueTable
) -> None:
    code, out = invoke("alerts", "show", "999", "-c", str(write_config(tmp_path, store_url, shop)))
    assert code == 1
    assert "alert 999 does not exist" in out


def test_config_show_masks_the_dsn_password(
    tmp_path: Path, shop: ValueTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = (
        write_config(
            tmp_path,
            "sqlite:///x.db",
            shop,
            extra="""\
  - name: remote
    source: pg
    schedule: {every: 1m}
    query: SELECT 1
    conditions: [{when: "> 1", severity: HIGH}]
""",
        ).read_text()
        + '  pg: {type: sql, url: "${PG_URL}"}\n'
    )
    # put the new source under `sources:`
    text = path.replace("sources:\n", 'sources:\n  pg: {type: sql, url: "${PG_URL}"}\n', 1)
    text = text.rsplit("  pg: {type: sql", 1)[0]
    (tmp_path / "s.yaml").write_text(text)
    monkeypatch.setenv("PG_URL", "postgresql://app:s3cr3tpass@db/shop")
    code, out = invoke("config", "show", "-c", str(tmp_path / "s.yaml"))
    assert code == 0, out
    assert "s3cr3tpass" not in out
    assert "postgresql://app:****@db/shop" in out or "****" in out


def test_init_writes_a_starter_that_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "tocsin.yaml"
    assert invoke("init", str(target))[0] == 0
    assert invoke("init", str(target))[0] == 1  # refuses to overwrite
    monkeypatch.setenv("SHOP_DATABASE_URL", "sqlite:///shop.db")
    code, out = invoke("config", "validate", "-c", str(target))
    assert code == 0, out
    assert "5 checks" in out
