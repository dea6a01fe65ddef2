"""Filling a block's parameters, before anything runs: from the command line (`--param K=V`),
then the labels of the incident's or alert's alerts, then the front matter (a default, a time
from the clock, an environment variable). Pure but for the environment mapping it is handed.

A value that holds a shell metacharacter is refused whatever the block's kind: sh and http
blocks put values into argv and URLs, and a runbook step has no business with `;`, `|`, `$`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.checks.evaluate import resolve_params
from tocsin.errors import Invalid
from tocsin.runbooks.blocks import Block
from tocsin.runbooks.parse import Runbook

METACHARACTERS = frozenset(";&|$`<>(){}[]*?!~\\'\"\n\r")


@dataclass(frozen=True)
class Filled:
    values: dict[str, Any]
    secrets: tuple[str, ...]  # values read from the environment: masked in every output


def environment(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    """Where `env:` parameters come from: Tocsin's environment, unless a caller gives one."""
    return os.environ if environ is None else environ


def unsafe(value: str) -> str | None:
    """The first shell metacharacter in `value`, if any."""
    return next((c for c in value if c in METACHARACTERS), None)


def parse_given(pairs: Sequence[str]) -> dict[str, str]:
    """`K=V` pairs (the CLI's `--param`) as a mapping with names in lower case."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise Invalid(f"--param {pair!r}: write it NAME=VALUE")
        out[name.lower()] = value
    return out


def fill(
    runbook: Runbook,
    blocks: Sequence[Block],
    given: Mapping[str, str],
    labels: Mapping[str, str],
    now: datetime,
    zone: str,
    environ: Mapping[str, str],
) -> Filled:
    """Every parameter the blocks use, valued; Invalid naming `file:line` of each parameter
    nothing fills and each value with a shell metacharacter or not matching its pattern."""
    values: dict[str, Any] = {}
    secrets: list[str] = []
    problems: list[str] = []
    for block in blocks:
        for use in block.params:
            if use.name in values:
                continue
            where = f"{runbook.path}:{use.line}: parameter {use.written}"
            spec = runbook.meta.param(use.name) if runbook.meta else None
            value: Any = given.get(use.name, labels.get(use.name))
            if value is None and spec is not None:
                if spec.env is not None and spec.env in environ:
                    value = environ[spec.env]
                    secrets.append(value)
                elif spec.is_time and spec.default is not None:
                    value = resolve_params({use.name: spec.default}, now, zone)[use.name]
                elif spec.default is not None:
                    value = spec.default
            if value is None:
                hint = f" (${spec.env} is not set)" if spec and spec.env else ""
                problems.append(f"{where} is not filled{hint}: give --param {use.name}=…")
                continue
            if isinstance(value, str):
                bad = unsafe(value)
                if bad is not None and spec is not None and spec.env is not None:
                    bad = None  # a secret from the environment is bound or sent, never shown
                if bad is not None:
                    problems.append(f"{where}: the value holds the shell metacharacter {bad!r}")
                    continue
                if spec is not None and spec.pattern and not re.fullmatch(spec.pattern, value):
                    problems.append(f"{where}: {value!r} does not match {spec.pattern!r}")
                    continue
            values[use.name] = value
    if problems:
        raise Invalid("; ".join(problems))
    return Filled(values, tuple(secrets))
