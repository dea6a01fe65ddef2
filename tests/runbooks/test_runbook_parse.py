"""Parsing a runbook: front matter, sections, numbered steps, executable blocks, parameters and
the verification checklist, each with the line it is on in the file."""

from __future__ import annotations

from datetime import timedelta

from tocsin.runbooks.frontmatter import ParamSpec
from tocsin.runbooks.parse import parse

LIST_STEPS = """\
---
id: disk-full
title: Disk full
severity: [HIGH, WARNING]
expected_duration: 10m-20m
services: [database]
checks: [disk]
alerts: ['service="db"']
source: shop
params:
  since: now-15m
  host: {prompt: "Which host?", pattern: "^[a-z0-9.-]+$"}
  token: {env: API_TOKEN}
---
# Disk full

## Symptoms/Detection

- Writes fail with `No space left on device`

## Resolution Steps

1. **Find the big tables**
   ```sql {"timeout": "10s", "auto": true, "test": "n > 0"}
   SELECT COUNT(*) AS n FROM orders
   WHERE created_at > :since AND note <> '10:30' AND id::text <> ''
   ```
2. **Ask the host**
   ```http {"test": ["status == 200", "json.ok"]}
   GET https://${HOST}/health
   Accept: application/json
   ```
   ```javascript
   console.log("${NOT_A_PARAMETER}")
   ```
3. Clean up
   ```bash {"mode": "read"}
   df -h /var/lib/${HOST} $HOME
   ```

## Verification Steps

- [ ] Free space above 20 %
  ```sql {"test": "free > 20", "dialect": "postgresql"}
  SELECT 25 AS free
  ```
- [x] Writes succeed again

## Rollback Procedure

```sh
curl -X POST "https://${HOST}/undo" -H "Authorization: ${TOKEN}"
```

## Escalation Criteria

- Escalate to: the DBA
"""

HEADING_STEPS = """\
---
id: queue
title: Queue overflow
severity: WARNING
expected_duration: 30m
---
## Symptom

Queue above 50.

## Resolution Steps

### Step 1: Assess the queue (1 minute)

```sql {"source": "shop"}
SELECT 1
```

#### If it keeps growing

```sql {"source": "shop"}
SELECT 2
```

### Step 2: Drain it

Work through it.

## Verification

- Queue under 50

## Escalation

- Ops lead
"""


def test_steps_are_the_numbered_items_of_resolution_steps_with_their_blocks() -> None:
    runbook = parse(LIST_STEPS, "disk.md")
    assert runbook.problems == ()
    assert [(s.number, s.title, s.line) for s in runbook.steps] == [
        (1, "Find the big tables", 23),
        (2, "Ask the host", 28),
        (3, "Clean up", 36),
    ]
    assert [[b.kind for b in s.blocks] for s in runbook.steps] == [["sql"], ["http"], ["sh"]]
    first = runbook.steps[0].blocks[0]
    assert (first.line, first.source, first.timeout, first.mode) == (
        24,
        "shop",
        timedelta(seconds=10),
        "read",
    )
    assert (first.auto, first.tests, first.section, first.step) == (
        True,
        ("n > 0",),
        "resolution",
        1,
    )


def test_step_headings_make_steps_as_reference_000_writes_them() -> None:
    runbook = parse(HEADING_STEPS, "queue.md")
    assert runbook.problems == ()
    assert [(s.number, s.title) for s in runbook.steps] == [
        (1, "Assess the queue (1 minute)"),
        (2, "Drain it"),
    ]
    # A block under a sub-heading still belongs to its step.
    assert [b.body for b in runbook.steps[0].blocks] == ["SELECT 1\n", "SELECT 2\n"]
    assert [s.key for s in runbook.sections] == [
        "symptoms",
        "resolution",
        "verification",
        "escalation",
    ]


def test_only_sql_http_and_sh_blocks_are_executable() -> None:
    runbook = parse(LIST_STEPS, "disk.md")
    assert [(b.kind, b.language) for b in runbook.blocks] == [
        ("sql", "sql"),
        ("http", "http"),
        ("sh", "bash"),
        ("sql", "sql"),
        ("sh", "sh"),
    ]
    # A script is a write unless it says otherwise; a GET is a read.
    assert [b.mode for b in runbook.blocks] == ["read", "read", "read", "read", "write"]


def test_parameters_are_bind_parameters_in_sql_and_braced_names_elsewhere() -> None:
    runbook = parse(LIST_STEPS, "disk.md")
    found = [(p.name, p.written, p.line) for p in runbook.params]
    assert found == [
        ("since", ":since", 26),  # not '10:30' in a string, not the ::text cast
        ("host", "${HOST}", 30),
        ("host", "${HOST}", 38),  # $HOME is the shell's own
        ("host", "${HOST}", 52),
        ("token", "${TOKEN}", 52),
    ]


def test_an_http_block_is_a_request() -> None:
    request = parse(LIST_STEPS, "disk.md").steps[1].blocks[0].request
    assert request is not None
    assert (request.method, request.url, request.headers, request.body) == (
        "GET",
        "https://${HOST}/health",
        (("Accept", "application/json"),),
        "",
    )


def test_verification_steps_are_a_checklist_whose_items_keep_their_blocks() -> None:
    runbook = parse(LIST_STEPS, "disk.md")
    items = [(i.text, i.line, i.checked, [b.tests for b in i.blocks]) for i in runbook.verification]
    assert items == [
        ("Free space above 20 %", 43, False, [("free > 20",)]),
        ("Writes succeed again", 47, True, []),
    ]
    assert runbook.verification[0].blocks[0].dialect == "postgresql"


def test_the_front_matter_says_what_the_runbook_answers_and_its_parameters() -> None:
    runbook = parse(LIST_STEPS, "disk.md")
    meta = runbook.meta
    assert meta is not None
    assert (runbook.id, runbook.title, meta.severities) == (
        "disk-full",
        "Disk full",
        ("HIGH", "WARNING"),
    )
    assert (meta.checks, meta.alerts, meta.services) == (["disk"], ['service="db"'], ["database"])
    since, host, token = (meta.param(n) for n in ("since", "host", "token"))
    assert since == ParamSpec(default="now-15m")
    assert since.is_time
    assert host == ParamSpec(prompt="Which host?", pattern="^[a-z0-9.-]+$")
    assert token == ParamSpec(env="API_TOKEN")
    assert runbook.front_matter.line_of("params", "host") == 12


def test_sections_carry_anchors_for_the_page() -> None:
    runbook = parse(LIST_STEPS, "disk.md")
    assert [(s.title, s.anchor, s.line) for s in runbook.sections] == [
        ("Symptoms/Detection", "symptomsdetection", 17),
        ("Resolution Steps", "resolution-steps", 21),
        ("Verification Steps", "verification-steps", 41),
        ("Rollback Procedure", "rollback-procedure", 49),
        ("Escalation Criteria", "escalation-criteria", 55),
    ]
