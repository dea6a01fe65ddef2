"""Where the configuration file and the store are, found without validating the file.

A command that only reads and writes the store (`alerts list`, `silence add`, `db upgrade`…)
needs `store.url` and nothing else: validating every section would cost it pydantic, Jinja2
compiling the conditions, and a failure for a mistake (an unset `${VAR}` in a channel) that
has nothing to do with it. `store_url` reads that one key, with the loader's `${VAR}` rule and
`$TOCSIN_DATABASE_URL` winning, and imports only PyYAML.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from tocsin.errors import ConfigError

DEFAULT_CONFIG_PATH = "tocsin.yaml"
DEFAULT_DATABASE_URL = "sqlite:///tocsin.db"
ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def config_path(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The configuration file to use: the given path, else $TOCSIN_CONFIG, else ./tocsin.yaml."""
    environ = os.environ if env is None else env
    return Path(path or environ.get("TOCSIN_CONFIG") or DEFAULT_CONFIG_PATH)


def store_url(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """$TOCSIN_DATABASE_URL, else the file's `store.url`, else the default SQLite file.

    A missing default file is no error (the store may be used without one); a file that is
    not YAML, or whose `store.url` names an unset variable, raises ConfigError as `load` does.
    """
    environ = os.environ if env is None else env
    if environ.get("TOCSIN_DATABASE_URL"):
        return environ["TOCSIN_DATABASE_URL"]
    file = config_path(path, environ)
    if path is None and "TOCSIN_CONFIG" not in environ and not file.exists():
        return DEFAULT_DATABASE_URL
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read the configuration: {exc.strerror}"]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{file}:{line}: not valid YAML: {problem}"]) from None
    found = _child(_child(node, "store"), "url")
    if found is None:
        return DEFAULT_DATABASE_URL
    line = found.start_mark.line + 1
    if not isinstance(found, yaml.ScalarNode) or found.tag != "tag:yaml.org,2002:str":
        raise ConfigError([f"{file}:{line}: store.url: must be text (a SQLAlchemy URL)"])
    return _interpolate(str(found.value), environ, f"{file}:{line}: store.url")


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node if isinstance(value_node, yaml.Node) else None
    return None


def _interpolate(text: str, env: Mapping[str, str], where: str) -> str:
    unset: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        unset.append(f"{where}: environment variable {name} is not set")
        return ""

    value = ENV_VAR.sub(replace, text)
    if unset:
        raise ConfigError(unset)
    return value
