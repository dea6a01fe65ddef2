"""A runbook's YAML front matter: what it is, how bad, how long, what it applies to, and the
parameters its steps may ask for. `read(text, first_line)` validates it and names the line of
every mistake; it never reads the environment (a `${VAR}` here is text, not a secret).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError, field_validator

from tocsin.config.fields import SEVERITIES, Matchers, Regex, Severity, Strict, parse_duration

Loc = tuple[str | int, ...]

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,99}$"
PARAM_NAME = r"^[a-z_][a-z0-9_]{0,63}$"
# `now`, `now-15m`, `today-30d`: a time from Tocsin's clock, as in a check's `params`.
TIME_DEFAULT = re.compile(r"^(now|today)\s*(?:([+-])\s*(\S+))?$")


class ParamSpec(Strict):
    """Where a parameter's value comes from when no alert or incident label gives it."""

    default: str | None = Field(
        default=None, description="a literal, or a time from the clock: now, now-15m, today-30d"
    )
    prompt: str | None = Field(default=None, description="the question asked of the operator")
    env: str | None = Field(
        default=None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="read from Tocsin's environment; a secret, redacted from every output",
    )
    pattern: Regex | None = Field(
        default=None, description="a regular expression the whole value must match"
    )

    @property
    def is_time(self) -> bool:
        return self.default is not None and TIME_DEFAULT.match(self.default.strip()) is not None


class FrontMatter(Strict):
    id: str = Field(pattern=ID_PATTERN, description="the slug alerts link to: /runbooks/<id>")
    title: str = Field(min_length=1, max_length=200)
    severity: Severity | list[Severity] = Field(
        description="one severity, or every severity it covers, worst first"
    )
    expected_duration: str = Field(description="like 15m-30m, or 45m")
    services: list[str] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list, description="checks whose alerts it answers")
    alerts: Matchers = Field(
        default_factory=list, description="label matchers of alerts it answers (any check)"
    )
    source: str | None = Field(default=None, description="the source of sql blocks naming none")
    params: dict[Annotated[str, Field(pattern=PARAM_NAME)], str | ParamSpec] = Field(
        default_factory=dict
    )

    @field_validator("severity")
    @classmethod
    def _worst_first(cls, value: Severity | list[Severity]) -> Severity | list[Severity]:
        if isinstance(value, list):
            ranks = [SEVERITIES.index(s) for s in value]
            if not value or ranks != sorted(set(ranks)):
                raise ValueError("list each severity once, worst first (CRITICAL, HIGH, …)")
        return value

    @field_validator("expected_duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        duration_range(value)
        return value

    @field_validator("params")
    @classmethod
    def _time_defaults(cls, value: dict[str, str | ParamSpec]) -> dict[str, str | ParamSpec]:
        for name, spec in value.items():
            default = spec if isinstance(spec, str) else spec.default
            match = TIME_DEFAULT.match(default.strip()) if default else None
            if match and match.group(3):
                try:
                    parse_duration(match.group(3))
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
        return value

    @property
    def severities(self) -> tuple[str, ...]:
        return (self.severity,) if isinstance(self.severity, str) else tuple(self.severity)

    def param(self, name: str) -> ParamSpec | None:
        spec = self.params.get(name)
        return ParamSpec(default=spec) if isinstance(spec, str) else spec


def duration_range(text: str) -> tuple[timedelta, timedelta]:
    """`15m-30m` → (15 min, 30 min); `45m` → (45 min, 45 min). ValueError otherwise."""
    low, sep, high = str(text).partition("-")
    try:
        first = parse_duration(low.strip())
        last = parse_duration(high.strip()) if sep else first
    except ValueError:
        raise ValueError(f"{text!r} is not a duration or a range like 15m-30m") from None
    if last < first:
        raise ValueError(f"{text!r} ends before it starts")
    return first, last


@dataclass(frozen=True)
class Mistake:
    line: int
    message: str


@dataclass(frozen=True)
class Read:
    meta: FrontMatter | None  # None when invalid
    data: dict[str, Any]
    lines: dict[Loc, int]  # the file line of every path in `data`
    mistakes: list[Mistake]

    def line_of(self, *loc: str | int) -> int:
        return _line_of(self.lines, loc, min(self.lines.values(), default=1))


def read(text: str, first_line: int) -> Read:
    """Validate front matter whose first line is line `first_line` of the file, naming the
    line of every mistake."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        problem = getattr(exc, "problem", None) or str(exc)
        return Read(None, {}, {}, [Mistake(line, f"front matter is not valid YAML: {problem}")])
    if not isinstance(node, yaml.MappingNode):
        message = "front matter must be a mapping (id: …, title: …)"
        return Read(None, {}, {}, [Mistake(first_line, message)])
    lines: dict[Loc, int] = {}
    data = _build(yaml.constructor.SafeConstructor(), node, (), lines, first_line)
    try:
        return Read(FrontMatter.model_validate(data), data, lines, [])
    except ValidationError as exc:
        mistakes = [
            Mistake(_line_of(lines, loc, first_line), _describe(loc, error))
            for loc, error in _errors(exc)
        ]
        return Read(None, data, lines, mistakes)


def _build(
    make: yaml.constructor.SafeConstructor,
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    offset: int,
) -> Any:
    """Plain data from the node tree, remembering the file line of every path in `lines`."""
    lines[loc] = offset + node.start_mark.line
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = make.construct_object(key_node, deep=True)
            lines[(*loc, key)] = offset + key_node.start_mark.line
            out[key] = _build(make, value_node, (*loc, key), lines, offset)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(make, item, (*loc, i), lines, offset) for i, item in enumerate(node.value)]
    return make.construct_object(node, deep=True)


def _line_of(lines: dict[Loc, int], loc: Loc, fallback: int) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return fallback


def _errors(exc: ValidationError) -> list[tuple[Loc, Any]]:
    """pydantic's errors, one per place: a value that fits no member of a union (`severity:
    HIGH | [HIGH, …]`) gets one error per member; keep the first, or the one that went deeper
    into a member (an unknown field of a parameter, not "not a string")."""
    found: list[tuple[Loc, bool, Any]] = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not _is_union_tag(p))
        found.append((loc, len(loc) < len(error["loc"]), error))
    out: dict[Loc, Any] = {}
    for loc, in_union, error in found:
        deeper = any(len(other) > len(loc) and other[: len(loc)] == loc for other, _, _ in found)
        if not (in_union and deeper):
            out.setdefault(loc, error)
    return list(out.items())


def _is_union_tag(part: object) -> bool:
    # pydantic names the union member it tried: `str`, `ParamSpec`, `list[…]`, `function-…`.
    return isinstance(part, str) and (
        part in ("str", "ParamSpec") or part.startswith(("list[", "literal[", "function-"))
    )


def _describe(loc: Loc, error: Any) -> str:
    where = ".".join(str(p) for p in loc) or "front matter"
    kind = error["type"]
    if kind == "missing":
        return f"front matter: {where} is required"
    if kind == "extra_forbidden":
        model = ParamSpec if loc[:1] == ("params",) else FrontMatter
        known = ", ".join(model.model_fields)
        return f"front matter: unknown field {where!r} (known: {known})"
    if kind == "literal_error":
        allowed = ", ".join(re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", "")))
        return f"front matter: {where}: {error.get('input')!r} is not one of {allowed}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"front matter: {where}: {message}"
