"""The configuration's reference, generated from its models: the JSON Schema that
`tocsin config schema` prints for editors, and the Markdown of `docs/configuration.md`
(`python -m tocsin.config.reference > docs/configuration.md`; a test fails when it is stale).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from tocsin.config.egress import NETWORK_SCHEMA
from tocsin.config.fields import (
    DURATION_SCHEMA,
    MATCHER_SCHEMA,
    NAME_PATTERN,
    ZONE_SCHEMA,
    format_duration,
)
from tocsin.config.model import TocsinConfig
from tocsin.config.oncall import CLOCK_TIME_SCHEMA, LOCAL_START_SCHEMA, ROTATION_SCHEMA

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Text holding a ${VAR}, which Tocsin replaces before it checks the value.
VARIABLE_SCHEMA: dict[str, Any] = {"type": "string", "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*"}


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, with defaults written as the file writes them."""

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, timedelta):
            return format_duration(dft)
        if isinstance(dft, time):
            return dft.strftime("%H:%M")
        return super().encode_default(dft)

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # every field has a description; a title would only repeat its name

    def str_schema(self, schema: Any) -> Any:
        generated = super().str_schema(schema)
        constrained = any(key in generated for key in ("pattern", "minLength", "maxLength"))
        # `${VAR}` is replaced from the environment before Tocsin checks the value (names,
        # also the keys of maps, are not secrets: they stay as they are).
        if constrained and generated.get("pattern") != NAME_PATTERN:
            return {"anyOf": [generated, VARIABLE_SCHEMA]}
        return generated

    def dict_schema(self, schema: Any) -> Any:
        generated = super().dict_schema(schema)
        if "patternProperties" in generated:
            # A key that is not a name is refused by Tocsin; pydantic's schema lets it pass.
            generated["additionalProperties"] = False
        return generated


def schema() -> dict[str, Any]:
    """The JSON Schema of tocsin.yaml (draft 2020-12), with a description on every field."""
    generated = TocsinConfig.model_json_schema(schema_generator=_Generator)
    generated.pop("title", None)
    return {"$schema": JSON_SCHEMA_DIALECT, "title": "tocsin.yaml", **generated}


# The kinds of value the file writes as text and Tocsin reads into something else.
_NAMED: list[tuple[Mapping[str, Any], str]] = [
    (DURATION_SCHEMA, "duration"),
    (ROTATION_SCHEMA, "`daily`, `weekly` or a duration"),
    (CLOCK_TIME_SCHEMA, "time of day, like `09:00`"),
    (LOCAL_START_SCHEMA, "local date and time, like `2026-11-02T09:00`"),
    (ZONE_SCHEMA, "time zone"),
    (MATCHER_SCHEMA, "matcher"),
    ({"type": "string", "pattern": NAME_PATTERN}, "name"),
    ({"type": "string", "format": "date-time"}, "date and time with a zone"),
    ({"type": "string", "format": "path"}, "path"),
    (NETWORK_SCHEMA, "IP address or network, like `10.0.0.0/8`"),
]
_HEAD = """\
# Configuration reference

<!-- Generated from the models in src/tocsin/config/ by
     `python -m tocsin.config.reference > docs/configuration.md`; do not edit by hand. -->

Every key of `tocsin.yaml`, section by section; every section is optional. Check a file with
`tocsin config validate`, which names every mistake by file, line and key.

**Editors.** `tocsin config schema > tocsin.schema.json` writes the same as JSON Schema. An
editor with the YAML language server (VS Code's YAML extension, Neovim, Helix…) then
completes keys and shows these descriptions when the file's first line is
`# yaml-language-server: $schema=tocsin.schema.json`.

**Values.**

- *duration*: a number with a unit, or several — `500ms`, `30s`, `5m`, `1h30m`, `7d`, `1w` —
  or a plain number of seconds.
- *time zone*: an IANA name such as `UTC`, `Europe/Paris` or `America/New_York`.
- *name*: letters, digits, `_`, `.` and `-`, starting with a letter or digit, at most 100.
- *matchers*: Alertmanager's, on an alert's labels: `service="payments"`, `team!="web"`,
  `severity=~"CRITICAL|HIGH"`, `check!~"test_.*"`.
- *template*: Jinja2 over the row's columns, like `Error rate {{ error_rate_percent }}%`.
- `${VAR}` anywhere takes the value of the environment variable VAR (`${VAR:-fallback}` when
  it may be unset); secrets belong there, never in the file.
"""


class _Writer:
    """Walks the schema depth first from the top, one section per model."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.defs: Mapping[str, Any] = doc.get("$defs", {})
        self.headings: dict[str, str] = {}  # model -> the path it is first met at
        self.lines: list[str] = []

    def write(self) -> str:
        self.lines.append(_HEAD)
        self._section("top", "Top level", self.doc)
        return "\n".join(self.lines).rstrip() + "\n"

    def _section(self, anchor: str, heading: str, model: Mapping[str, Any]) -> None:
        self.lines.append(f'<a id="{anchor}"></a>\n\n## {heading}\n')
        if model.get("description") and anchor != "top":
            self.lines.append(_cell(model["description"], table=False) + "\n")
        self.lines.append("| key | type | default | what it is |\n|---|---|---|---|")
        found: list[tuple[str, str]] = []
        required = set(model.get("required", []))
        path = "" if anchor == "top" else heading.split("`")[1]
        for key, spec in model.get("properties", {}).items():
            here = f"{path}.{key}" if path else key
            kind = self._kind(spec, here, found)
            default = "required" if key in required else _default(spec, kind)
            self.lines.append(
                f"| `{key}` | {_cell(kind)} | {_cell(default)} | "
                f"{_cell(spec.get('description', ''))} |"
            )
        self.lines.append("")
        for name, at in found:
            if name not in self.headings:
                continue
            if self.headings[name] == at:
                self._section(name.lower(), self._heading(name, at), self.defs[name])

    def _heading(self, name: str, path: str) -> str:
        kind = self.defs[name].get("properties", {}).get("type", {}).get("const")
        return f"`{path}`, type `{kind}`" if kind else f"`{path}`"

    def _kind(self, spec: Mapping[str, Any], path: str, found: list[tuple[str, str]]) -> str:
        bare = {k: v for k, v in spec.items() if k not in ("description", "default", "title")}
        for known, words in _NAMED:
            if bare == known:
                return words
        if "$ref" in spec:
            name = str(spec["$ref"]).rsplit("/", 1)[-1]
            if name not in self.headings:
                self.headings[name] = path
                found.append((name, path))
            return f"[{self._heading(name, self.headings[name])}](#{name.lower()})"
        if "oneOf" in spec:
            return "one of " + ", ".join(self._kind(s, path, found) for s in spec["oneOf"])
        if "anyOf" in spec:
            # An optional value is its kind or null; pydantic merges the kind's own anyOf in.
            given = [s for s in spec["anyOf"] if s not in ({"type": "null"}, VARIABLE_SCHEMA)]
            if 1 < len(given) < len(spec["anyOf"]):
                return self._kind({"anyOf": given}, path, found)
            return " or ".join(self._kind(s, path, found) for s in given)
        if "const" in spec:
            return f"`{spec['const']}`"
        if "enum" in spec:
            return _choices(spec["enum"])
        kind = spec.get("type")
        if kind == "array":
            inner = self._kind(spec.get("items", {}), f"{path}[]", found)
            least = spec.get("minItems")
            listed = "matchers" if inner == "matcher" else f"list of {inner}"
            return listed + (f" (at least {least})" if least else "")
        if kind == "object":
            keys = "name" if "patternProperties" in spec else "text"
            values = next(iter(spec.get("patternProperties", {}).values()), None)
            values = values or spec.get("additionalProperties") or {"type": "string"}
            return f"map of {keys} to {self._kind(values, f'{path}.NAME', found)}"
        return _scalar(spec)


def _scalar(spec: Mapping[str, Any]) -> str:
    kind = spec.get("type")
    words = {"string": "text", "integer": "integer", "number": "number", "boolean": "true or false"}
    out = words.get(str(kind), json.dumps(spec))
    bounds = [
        f"{sign} {spec[key]}"
        for key, sign in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
            ("minLength", "length ≥"),
        )
        if key in spec
    ]
    return out + (f" ({', '.join(bounds)})" if bounds else "")


def _choices(values: list[Any]) -> str:
    shown = [f"`{v}`" for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _default(spec: Mapping[str, Any], kind: str) -> str:
    if "default" not in spec:
        # Made by a factory: an empty list or map, or a section with its own defaults.
        return "its defaults" if kind.startswith("[") else "none"
    value = spec["default"]
    if value is None or value == [] or value == {}:
        return "none"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str | int | float):
        return f"`{value}`"
    return f"`{json.dumps(value)}`"


def _cell(text: str, *, table: bool = True) -> str:
    """Text fit for a Markdown table cell (or a paragraph): one line, pipes escaped, and `<`
    written as an entity outside code spans (`<@&ROLE_ID>` is not an HTML tag)."""
    parts = " ".join(str(text).split()).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;")
    one_line = "`".join(parts)
    return one_line.replace("|", "\\|") if table else one_line


def markdown() -> str:
    """docs/configuration.md: every section and key with its type, default and description."""
    return _Writer(schema()).write()


if __name__ == "__main__":
    print(markdown(), end="")
