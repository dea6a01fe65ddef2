"""Problems in the file, each read as `file:line: field.path: what is wrong`.

Pydantic's errors name places in the validated data; these turn them back into the keys the user
wrote (dropping the union tags pydantic inserts), with a plainer message and, for an unknown key,
the nearest known one.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from tocsin.config.channels import ChannelConfig
from tocsin.config.checks import (
    ActiveHoursConfig,
    BaselineConfig,
    CheckConfig,
    ConditionConfig,
    HistoryBaselineConfig,
    OnErrorConfig,
    ScheduleConfig,
)
from tocsin.config.heartbeats import HeartbeatConfig
from tocsin.config.model import TocsinConfig
from tocsin.config.noise import (
    FlappingConfig,
    GroupingConfig,
    InhibitRuleConfig,
    KnownIssueConfig,
    MaintenanceSeedConfig,
    SilenceSeedConfig,
)
from tocsin.config.oncall import LayerConfig, OncallScheduleConfig, RestrictConfig, UserConfig
from tocsin.config.runbooks import RunbooksConfig
from tocsin.config.runtime import ApiConfig, StoreConfig, WorkerConfig
from tocsin.config.sources import SourceConfig
from tocsin.config.status import ComponentConfig, PublishConfig, StatusConfig

Loc = tuple[str | int, ...]


def at(filename: str, line: int, loc: Loc, message: str) -> str:
    """One problem as the user reads it: `file:line: field.path: what is wrong`."""
    return f"{filename}:{line}: {format_loc(loc)}: {message}"


def validation_problems(error: ValidationError, data: Any) -> list[tuple[Loc, str]]:
    """Each of pydantic's errors at the key in the file it is about, in plain words."""
    problems = []
    for item in error.errors():
        loc = data_loc(data, item["loc"])
        problems.append((loc, _describe(item, loc, data)))
    return problems


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top)"


def data_loc(data: Any, loc: tuple[Any, ...]) -> Loc:
    """Follow pydantic's error location through the data, dropping union tags it inserts."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and part == "for_" and "for" in node:
            node = node["for"]
            path.append("for")
        elif isinstance(part, str) and (part.startswith("function-") or part in _UNION_TAGS):
            continue
        else:
            path.append(part)
            node = None
    return tuple(path)


def _by_type(union: object) -> dict[str, type[BaseModel]]:
    """The models of a discriminated union by their `type` value (`sql`, `discord`, …)."""
    return {
        tag: model
        for model in get_args(get_args(union)[0])
        for tag in get_args(model.model_fields["type"].annotation)
    }


_TYPED_SECTIONS = {"sources": _by_type(SourceConfig), "channels": _by_type(ChannelConfig)}
# Pydantic names a union member in an error's location by its tag (a source or channel type) or
# by a plain type's name; neither is a key in the file. Derived from the unions, so a new channel
# or source type needs no edit here.
_UNION_TAGS = frozenset(tag for models in _TYPED_SECTIONS.values() for tag in models) | {
    "str",
    "int",
    "float",
    "none",
}


def _describe(error: Any, loc: Loc, data: Any) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        allowed = ", ".join(re.findall(r"'([^']*)'", expected)) or expected
        return f"{given!r} is not one of {allowed}"
    if kind == "extra_forbidden":
        name = loc[-1] if loc else "?"
        allowed = _model_fields_for(loc, data)
        # A close spelling, or the short form of a longer name (`timeout`: `statement_timeout`).
        hint = difflib.get_close_matches(str(name), allowed, n=1) or [
            f for f in allowed if f.endswith(f"_{name}") or f.startswith(f"{name}_")
        ]
        suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"unknown field '{name}'{suffix}"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        expected = error.get("ctx", {}).get("expected_tags", "")
        return f"type {error.get('ctx', {}).get('tag')!r} is not one of {expected}"
    if kind == "union_tag_not_found":
        return "'type' is missing"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    return message


_FIELDS_BY_DEPTH: dict[str, type[BaseModel]] = {
    "store": StoreConfig,
    "worker": WorkerConfig,
    "schedule": ScheduleConfig,
    "active_hours": ActiveHoursConfig,
    "baseline": BaselineConfig,
    "history": HistoryBaselineConfig,
    "on_error": OnErrorConfig,
    "conditions": ConditionConfig,
    "layers": LayerConfig,
    "restrict": RestrictConfig,
    "heartbeats": HeartbeatConfig,
    "api": ApiConfig,
    "grouping": GroupingConfig,
    "inhibit_rules": InhibitRuleConfig,
    "known_issues": KnownIssueConfig,
    "flapping": FlappingConfig,
    "silences": SilenceSeedConfig,
    "maintenance": MaintenanceSeedConfig,
    "runbooks": RunbooksConfig,
    "status": StatusConfig,
    "components": ComponentConfig,
    "publish": PublishConfig,
}


def _model_fields_for(loc: Loc, data: Any) -> list[str]:
    """Field names that were allowed where an unknown key was found, for 'did you mean'."""
    names = [p for p in loc[:-1] if isinstance(p, str)]
    if not names:
        return list(TocsinConfig.model_fields)
    if names[0] in _TYPED_SECTIONS and len(loc) == 3:
        # A source or channel: the fields of its own type.
        entry = (data.get(names[0]) or {}).get(loc[1]) if isinstance(data, dict) else None
        kind = entry.get("type") if isinstance(entry, dict) else None
        typed = _TYPED_SECTIONS[names[0]].get(kind) if isinstance(kind, str) else None
        return list(typed.model_fields) if typed is not None else []
    if names == ["checks"]:
        return [f.alias or n for n, f in CheckConfig.model_fields.items()]
    model = _FIELDS_BY_DEPTH.get(names[-1])
    if model is not None:
        return [f.alias or n for n, f in model.model_fields.items()]
    if names[0] == "users":
        return list(UserConfig.model_fields)
    if names[0] == "schedules" and len(names) == 2:
        return list(OncallScheduleConfig.model_fields)
    return []
