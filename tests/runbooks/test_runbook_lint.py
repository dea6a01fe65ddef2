"""Lint names file:line of every problem, all in one pass, sorted by file and line; the shipped
runbooks have none against the configurations Tocsin ships."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from tocsin.config import TocsinConfig, parse
from tocsin.runbooks.lint import Facts, config_links, lint
from tocsin.runbooks.service import read

CONFIG = """
sources:
  shop: {type: sql, url: "sqlite:///shop.db"}
  prom: {type: prometheus, url: "http://127.0.0.1:9090"}
checks:
  - name: queue
    source: shop
    schedule: {every: 5m}
    query: SELECT provider_name, COUNT(*) AS n FROM manual_queue GROUP BY provider_name
    key: [provider_name]
    labels: {service: fulfillment}
    conditions: [{when: "n > 50", severity: HIGH}]
    runbook: queue-overflow
"""

GOOD = """\
---
id: queue-overflow
title: Queue overflow
severity: HIGH
expected_duration: 30m
checks: [queue]
source: shop
params:
  since: now-1h
---
# Queue overflow

## Symptoms

- The queue is long

## Resolution Steps

1. **Look**
   ```sql
   SELECT COUNT(*) AS n FROM manual_queue
   WHERE provider_name = :provider_name AND created_at > :since
   ```

## Verification Steps

- [ ] Shorter

## Escalation Criteria

- Ops lead
"""


def config() -> TocsinConfig:
    parsed, _ = parse(CONFIG, "tocsin.yaml", env={})
    return parsed


def lint_files(tmp_path: Path, **files: str) -> list[str]:
    for name, text in files.items():
        (tmp_path / f"{name}.md").write_text(text)
    runbooks, problems = read([tmp_path])
    found = problems + lint(runbooks, Facts.of(config()))
    return [str(p).removeprefix(f"{tmp_path}/") for p in found]


def test_a_good_runbook_has_no_problems(tmp_path: Path) -> None:
    # :provider_name is the alerts' key label; :since is declared in the front matter.
    assert lint_files(tmp_path, good=GOOD) == []


def test_bad_front_matter_is_named_by_line(tmp_path: Path) -> None:
    bad = (
        GOOD.replace("severity: HIGH", "severity: SEVERE")
        .replace("expected_duration: 30m", "expected_duration: soon")
        .replace("source: shop", "source: shop\nowner: ana")
    )
    assert lint_files(tmp_path, bad=bad) == [
        "bad.md:4: front matter: severity: 'SEVERE' is not one of CRITICAL, HIGH, WARNING, INFO",
        "bad.md:5: front matter: expected_duration: 'soon' is not a duration or a range like "
        "15m-30m",
        "bad.md:8: front matter: unknown field 'owner' (known: id, title, severity, "
        "expected_duration, services, checks, alerts, source, params)",
    ]


def test_front_matter_that_is_not_yaml_or_missing_says_so(tmp_path: Path) -> None:
    assert lint_files(
        tmp_path,
        broken=GOOD.replace("title: Queue overflow", "title: [Queue"),
        none=GOOD.split("---\n", 2)[2],
    ) == [
        "broken.md:4: front matter is not valid YAML: expected ',' or ']', but got ':'",
        "none.md:1: the file must start with front matter: a '---' line, YAML (id, title, "
        "severity, expected_duration), a '---' line",
    ]


def test_missing_required_sections_are_named_at_the_title(tmp_path: Path) -> None:
    bad = GOOD.replace("## Symptoms\n", "## Notes\n").split("## Verification Steps")[0]
    assert lint_files(tmp_path, bad=bad) == [
        "bad.md:11: missing required section '## Escalation Criteria'",
        "bad.md:11: missing required section '## Symptoms/Detection'",
        "bad.md:11: missing required section '## Verification Steps'",
    ]


def test_unknown_attributes_sources_and_unfilled_parameters_are_named(tmp_path: Path) -> None:
    bad = GOOD.replace("```sql\n", '```sql {"source": "warehouse", "timout": "5s"}\n').replace(
        ":since", ":since AND region = :region"
    )
    assert lint_files(tmp_path, bad=bad) == [
        "bad.md:20: unknown attribute 'timout' (did you mean 'timeout'?); known: auto, "
        "dialect, mode, source, test, timeout",
        "bad.md:20: unknown source 'warehouse' (configured: prom, shop)",
        "bad.md:22: parameter :region is filled by nothing: it is not a label of the alerts "
        "this runbook answers (check, incident, origin, provider_name, service, severity) nor "
        "declared under params: in the front matter",
    ]


def test_a_source_of_the_wrong_kind_and_unknown_checks_are_named(tmp_path: Path) -> None:
    bad = GOOD.replace("```sql\n", '```sql {"source": "prom"}\n').replace(
        "checks: [queue]", "checks: [queue, qeue]"
    )
    assert lint_files(tmp_path, bad=bad) == [
        "bad.md:6: front matter: checks: unknown check 'qeue' (configured: queue)",
        "bad.md:20: source 'prom' is a prometheus source; sql blocks need an sql source",
    ]


def test_statements_that_write_or_come_in_pairs_are_refused_without_saying_so(
    tmp_path: Path,
) -> None:
    bad = GOOD.replace(
        "SELECT COUNT(*) AS n FROM manual_queue\n",
        "UPDATE manual_queue SET priority = 'low';\n   SELECT COUNT(*) AS n FROM manual_queue\n",
    )
    assert lint_files(tmp_path, bad=bad) == [
        "bad.md:20: the sql block holds 2 statements; a block runs one: give each its own block",
        'bad.md:20: the statement writes (UPDATE): mark the block {"mode": "write"}, so that '
        "it asks for approval and a source that allows writes",
    ]


def test_duplicate_ids_point_at_the_first(tmp_path: Path) -> None:
    assert lint_files(tmp_path, a=GOOD, b=GOOD) == [
        f"b.md:2: id 'queue-overflow' is already used by {tmp_path}/a.md:2",
    ]


def test_every_problem_comes_in_one_pass_sorted_by_file_and_line(tmp_path: Path) -> None:
    found = lint_files(
        tmp_path,
        z=GOOD.replace("severity: HIGH", "severity: LOW"),
        a=GOOD.replace("```sql\n", '```sql {"auto": "yes"}\n').replace("## Symptoms\n", ""),
    )
    assert [line.split(": ", 1)[0] for line in found] == ["a.md:11", "a.md:19", "z.md:4"]


def test_a_configuration_linking_to_a_runbook_nobody_has_is_named(tmp_path: Path) -> None:
    text = CONFIG.replace("runbook: queue-overflow", "runbook: queue-overfow")
    assert [str(p) for p in config_links(text, "tocsin.yaml", ["queue-overflow"])] == [
        "tocsin.yaml:13: check 'queue' links to runbook 'queue-overfow', which no runbook has "
        "(ids: queue-overflow)"
    ]
    assert config_links(CONFIG, "tocsin.yaml", ["queue-overflow"]) == []


def shipped_folder() -> Path:
    return Path(str(resources.files("tocsin.examples").joinpath("runbooks")))


@pytest.mark.parametrize("name", ["starter.yaml", "storefront.yaml"])
def test_the_shipped_runbooks_lint_clean_against_the_shipped_configurations(name: str) -> None:
    text = resources.files("tocsin.examples").joinpath(name).read_text("utf-8")
    shipped, _ = parse(text, name, env={"SHOP_DATABASE_URL": "sqlite:///shop.db"})
    runbooks, problems = read([shipped_folder()])
    problems += lint(runbooks, Facts.of(shipped))
    problems += config_links(text, name, [r.id for r in runbooks])
    assert [str(p) for p in problems] == []
    assert len(runbooks) == 18


def test_the_shipped_runbooks_cover_both_reference_documents() -> None:
    runbooks, _ = read([shipped_folder()])
    ids = {r.id for r in runbooks}
    assert {
        "payment-processing-failure",
        "provider-failure",
        "database-emergency",
        "manual-queue-overflow",
    } <= ids
    assert sum(1 for r in runbooks if "reference 002" in r.body) == 14
