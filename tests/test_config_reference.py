"""The configuration's reference: `tocsin config schema` for editors, docs/configuration.md.

The schema is checked by an independent validator (jsonschema), against the example files as
an editor's YAML language server reads them (YAML 1.2: `9:30` and `2026-11-02` are text).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.config.reference import markdown, schema

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"
# Every configuration Tocsin ships, so a new example is checked too.
EXAMPLES = sorted(
    f.name for f in resources.files("tocsin.examples").iterdir() if f.name.endswith(".yaml")
)


class EditorLoader(yaml.SafeLoader):
    """YAML 1.2's core schema, as editors read a file (PyYAML reads YAML 1.1, where 9:30 is
    the number 570, 2026-11-02 a date and `no` false)."""


_BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float"))
EditorLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag.rsplit(":", 1)[1] not in ("bool", "int", "float", "timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
EditorLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
EditorLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
EditorLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|nan))$"),
    list("-+0123456789."),
)


def as_an_editor_reads(text: str) -> Any:
    return yaml.load(text, Loader=EditorLoader)  # noqa: S506 (a SafeLoader with 1.2 scalars)


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    printed = CliRunner().invoke(app, ["config", "schema"])
    assert printed.exit_code == 0
    document = json.loads(printed.output)
    cls = jsonschema.validators.validator_for(document)
    cls.check_schema(document)  # itself valid JSON Schema, of the dialect it names
    assert cls is jsonschema.Draft202012Validator
    return cls(document)


def test_the_committed_reference_is_generated_from_the_models() -> None:
    assert DOCS.read_text(encoding="utf-8") == markdown(), (
        "docs/configuration.md is stale: run "
        "`python -m tocsin.config.reference > docs/configuration.md`"
    )


def test_every_key_and_section_says_what_it_is() -> None:
    document = schema()
    models = {"tocsin.yaml": document, **document["$defs"]}
    undescribed = [
        f"{name}.{key}"
        for name, model in models.items()
        for key, spec in model["properties"].items()
        if not spec.get("description")
    ]
    undescribed += [name for name, model in document["$defs"].items() if "description" not in model]
    assert undescribed == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_shipped_examples_pass_the_printed_schema(
    validator: jsonschema.protocols.Validator, name: str
) -> None:
    text = resources.files("tocsin.examples").joinpath(name).read_text("utf-8")
    errors = [
        f"{e.json_path}: {e.message}" for e in validator.iter_errors(as_an_editor_reads(text))
    ]
    assert errors == []


GOOD = """\
sources:
  shop: {type: sql, url: "sqlite:///shop.db"}
checks:
  - name: error_rate
    source: shop
    schedule: {every: 1m}
    query: SELECT 1
    conditions: [{when: ">= 10", severity: HIGH}]
"""


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("    schedule: {every: 1m}\n", "", "$.checks[0]"),
        ("severity: HIGH", "severity: HIHG", "$.checks[0].conditions[0].severity"),
        ("{every: 1m}", "{every: soon}", "$.checks[0].schedule.every"),
        ("type: sql", "type: oracle", "$.sources.shop"),
        ("    query: SELECT 1\n", "    query: SELECT 1\n    fro: 5m\n", "$.checks[0]"),
        ("name: error_rate", "name: error rate", "$.checks[0].name"),
        ("  shop:", "  my shop:", "$.sources"),
    ],
)
def test_the_schema_refuses_what_validate_refuses(
    validator: jsonschema.protocols.Validator, old: str, new: str, where: str
) -> None:
    assert list(validator.iter_errors(as_an_editor_reads(GOOD))) == []
    wrong = as_an_editor_reads(GOOD.replace(old, new))
    assert [e.json_path for e in validator.iter_errors(wrong)] == [where]


def test_a_variable_passes_where_its_value_is_checked_later(
    validator: jsonschema.protocols.Validator,
) -> None:
    text = GOOD + "secret_key: ${TOCSIN_SECRET}\napi: {listen: '${LISTEN}'}\n"
    assert list(validator.iter_errors(as_an_editor_reads(text))) == []
    short = as_an_editor_reads(GOOD + "secret_key: too short\n")
    assert [e.json_path for e in validator.iter_errors(short)] == ["$.secret_key"]
