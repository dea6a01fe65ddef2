"""Reading the file: YAML with the line of every key, `${VAR}` taken from the environment, then
validation, then the cross-checks. The only reader of the environment.

`load(path)` returns a `LoadedConfig` or raises `ConfigError` whose problems each read
`file:line: field.path: what is wrong`, sorted by line: unset variables, schema errors and
cross-reference errors together, in one pass (`lenient` says how the cross-checks run over a
file with schema errors). Only malformed YAML stops at its first error. Every value that came
from a variable is remembered as a secret, so `masked()` can hide it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tocsin.config.crosscheck import cross_check
from tocsin.config.lenient import Survivors, survivors, whole
from tocsin.config.locate import DEFAULT_CONFIG_PATH, DEFAULT_DATABASE_URL, config_path
from tocsin.config.locate import ENV_VAR as _ENV
from tocsin.config.model import LoadedConfig, TocsinConfig
from tocsin.config.problems import Loc, at, validation_problems
from tocsin.errors import ConfigError


class _Loader:
    """Turns a YAML node tree into plain data, remembering the line of every path."""

    def __init__(self, filename: str, env: Mapping[str, str]) -> None:
        self.filename = filename
        self.env = env
        self.lines: dict[Loc, int] = {}
        self.problems: list[tuple[int, Loc, str]] = []
        # Where an unset variable was: the schema's complaint about the empty value left
        # there would name the same mistake twice.
        self.unset: set[Loc] = set()
        self.secrets: set[str] = set()
        # Builds scalars straight from their nodes (tags already resolved by compose).
        self._constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._constructor.construct_object(key_node, deep=True)
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                if key in out:
                    self.problems.append(
                        (key_node.start_mark.line + 1, (*loc, key), "duplicate key")
                    )
                out[key] = self.build(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        value = self._constructor.construct_object(node, deep=True)
        if isinstance(value, str) and "${" in value:
            return self._interpolate(value, loc, node.start_mark.line + 1)
        return value

    def _interpolate(self, text: str, loc: Loc, line: int) -> str:
        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in self.env:
                found = self.env[name]
            elif default is not None:
                found = default
            else:
                self.problems.append((line, loc, f"environment variable {name} is not set"))
                self.unset.add(loc)
                return ""
            if found:
                self.secrets.add(found)
            return found

        return _ENV.sub(replace, text)

    def came_from_unset(self, loc: Loc) -> bool:
        return any(loc[: len(place)] == place for place in self.unset)

    def line_of(self, loc: Loc) -> int:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1


def parse(
    text: str, filename: str = DEFAULT_CONFIG_PATH, env: Mapping[str, str] | None = None
) -> tuple[TocsinConfig, frozenset[str]]:
    """Validate configuration text; raise ConfigError listing every problem."""
    loader = _Loader(filename, os.environ if env is None else env)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{filename}:{line}: not valid YAML: {problem}"]) from None
    data = {} if node is None else loader.build(node, ())
    if not isinstance(data, dict):
        raise ConfigError([f"{filename}:1: the file must be a mapping of sections"])
    problems = list(loader.problems)
    file: Survivors | None
    try:
        config = TocsinConfig.model_validate(data)
        file = whole(config)
    except ValidationError as exc:
        wrong = validation_problems(exc, data)
        problems += [
            (loader.line_of(loc), loc, why) for loc, why in wrong if not loader.came_from_unset(loc)
        ]
        file = survivors(data)
    if file is not None:
        problems += [(loader.line_of(loc), loc, why) for loc, why in cross_check(file)]
    if problems:
        # By line, as the user reads the file; the sort is stable, so one line's stay in order.
        problems.sort(key=lambda found: found[0])
        raise ConfigError([at(filename, line, loc, why) for line, loc, why in problems])
    folder = Path(filename).parent
    runbooks = config.runbooks.relative_to(folder)
    sources = {name: source.relative_to(folder) for name, source in config.sources.items()}
    status = config.status.relative_to(folder)
    relative = config.model_copy(
        update={"runbooks": runbooks, "sources": sources, "status": status}
    )
    return relative, frozenset(loader.secrets)


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and validate the configuration file; the store URL env var wins over the file."""
    environ = os.environ if env is None else env
    file = config_path(path, environ)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read the configuration: {exc.strerror}"]) from None
    config, secrets = parse(text, str(file), environ)
    url = environ.get("TOCSIN_DATABASE_URL") or config.store.url
    return LoadedConfig(config=config, path=file, database_url=url, secrets=secrets)


def database_url(env: Mapping[str, str] | None = None, fallback: str | None = None) -> str:
    environ = os.environ if env is None else env
    return environ.get("TOCSIN_DATABASE_URL") or fallback or DEFAULT_DATABASE_URL
