"""Lint: every problem of a set of runbooks that can be known before anything runs, each as
`file:line: message`, sorted by file and line.

Beyond what parsing finds in one file (front matter, sections, attributes, statements), lint
checks what needs the others or the configuration: duplicate ids, the sources sql blocks name,
the checks front matter names, and parameters nothing can fill. A parameter is filled by a
label of the alerts the runbook answers (the labels and key columns of its checks, the label
names of its `alerts:` matchers, and `severity`, `check`, `origin` that every alert has), by
`incident` (the incident the steps run for), or by a declaration under `params:` (a default,
a prompt, or an environment variable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import yaml

from tocsin.config.model import TocsinConfig
from tocsin.matchers import parse_matcher
from tocsin.runbooks.blocks import Block
from tocsin.runbooks.parse import Problem, Runbook

ALWAYS_FILLED = frozenset({"severity", "check", "origin", "incident"})


@dataclass(frozen=True)
class Facts:
    """What lint needs from the configuration."""

    sources: Mapping[str, str]  # name → type (sql, http, prometheus)
    # check → label names its alerts carry; None when any label may appear (a Prometheus
    # check without `key`: every label of the series becomes one).
    check_labels: Mapping[str, frozenset[str] | None]
    check_runbooks: Mapping[str, str]  # check → the runbook it links to

    @classmethod
    def of(cls, config: TocsinConfig) -> Facts:
        labels: dict[str, frozenset[str] | None] = {}
        for check in config.checks:
            source = config.sources.get(check.source)
            if source is not None and source.type == "prometheus" and not check.key:
                labels[check.name] = None
            else:
                labels[check.name] = frozenset([*check.labels, *check.key])
        return cls(
            sources={name: source.type for name, source in config.sources.items()},
            check_labels=labels,
            check_runbooks={c.name: c.runbook for c in config.checks if c.runbook},
        )


def lint(runbooks: Sequence[Runbook], facts: Facts | None) -> list[Problem]:
    """Every problem in `runbooks`; without `facts` (no configuration) sources and checks are
    not checked, nor parameters of runbooks that name checks."""
    problems = [p for runbook in runbooks for p in runbook.problems]
    problems += _duplicates(runbooks)
    for runbook in runbooks:
        if runbook.meta is None:
            continue
        if facts is not None:
            problems += _checks(runbook, facts)
        for block in runbook.blocks:
            problems += _source(runbook, block, facts)
        problems += _unfilled(runbook, facts)
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.message))


def _duplicates(runbooks: Sequence[Runbook]) -> list[Problem]:
    first: dict[str, Runbook] = {}
    out = []
    for runbook in runbooks:
        if runbook.meta is None:
            continue
        if runbook.id in first:
            other = first[runbook.id]
            out.append(
                Problem(
                    runbook.path,
                    runbook.front_matter.line_of("id"),
                    f"id {runbook.id!r} is already used by {other.path}:"
                    f"{other.front_matter.line_of('id')}",
                )
            )
        first.setdefault(runbook.id, runbook)
    return out


def _checks(runbook: Runbook, facts: Facts) -> list[Problem]:
    assert runbook.meta is not None
    known = ", ".join(sorted(facts.check_labels)) or "none"
    return [
        Problem(
            runbook.path,
            runbook.front_matter.line_of("checks", index),
            f"front matter: checks: unknown check {name!r} (configured: {known})",
        )
        for index, name in enumerate(runbook.meta.checks)
        if name not in facts.check_labels
    ]


def _source(runbook: Runbook, block: Block, facts: Facts | None) -> list[Problem]:
    if block.kind != "sql":
        return []
    if block.source is None:
        message = (
            'the sql block names no source: add {"source": "…"} to it, '
            "or source: to the front matter"
        )
        return [Problem(runbook.path, block.line, message)]
    if facts is None:
        return []
    kind = facts.sources.get(block.source)
    if kind is None:
        known = ", ".join(sorted(facts.sources)) or "none"
        message = f"unknown source {block.source!r} (configured: {known})"
        return [Problem(runbook.path, block.line, message)]
    if kind != "sql":
        message = f"source {block.source!r} is a {kind} source; sql blocks need an sql source"
        return [Problem(runbook.path, block.line, message)]
    return []


def fillable(runbook: Runbook, facts: Facts | None) -> frozenset[str] | None:
    """The parameter names something can fill; None when anything may (or cannot be known)."""
    assert runbook.meta is not None
    names = set(ALWAYS_FILLED) | set(runbook.meta.params)
    names |= {parse_matcher(text).name.lower() for text in runbook.meta.alerts}
    checks = set(runbook.meta.checks)
    if facts is not None:
        checks |= {c for c, slug in facts.check_runbooks.items() if slug == runbook.id}
    elif checks:
        return None
    for check in checks:
        labels = facts.check_labels.get(check, frozenset()) if facts else frozenset()
        if labels is None:
            return None
        names |= {label.lower() for label in labels}
    return frozenset(names)


def _unfilled(runbook: Runbook, facts: Facts | None) -> list[Problem]:
    names = fillable(runbook, facts)
    if names is None:
        return []
    return [
        Problem(
            runbook.path,
            use.line,
            f"parameter {use.written} is filled by nothing: it is not a label of the alerts "
            f"this runbook answers ({', '.join(sorted(names - set(runbook.meta.params)))}) "
            "nor declared under params: in the front matter",
        )
        for use in runbook.params
        if use.name not in names and runbook.meta is not None
    ]


def config_links(text: str, path: str, ids: Iterable[str]) -> list[Problem]:
    """Problems in a configuration file's `runbook:` links: a slug no runbook has (a URL is
    left alone). `text` is the configuration file's content."""
    known = set(ids)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []  # the configuration's own validation reports it
    out = []
    for check in _mapping_value(node, "checks", yaml.SequenceNode):
        name = _mapping_value(check, "name", yaml.ScalarNode)
        link = _mapping_value(check, "runbook", yaml.ScalarNode)
        for scalar in link:
            slug = str(scalar.value)
            if slug.startswith(("http://", "https://")) or slug in known:
                continue
            check_name = name[0].value if name else "?"
            out.append(
                Problem(
                    path,
                    scalar.start_mark.line + 1,
                    f"check {check_name!r} links to runbook {slug!r}, which no runbook has "
                    f"(ids: {', '.join(sorted(known)) or 'none'})",
                )
            )
    return out


def _mapping_value(node: yaml.Node | None, key: str, kind: type[yaml.Node]) -> list[yaml.Node]:
    """The value under `key` of a mapping node, as a list of items (a sequence's) or itself."""
    if not isinstance(node, yaml.MappingNode):
        return []
    for key_node, value in node.value:
        if key_node.value == key and isinstance(value, kind):
            return list(value.value) if isinstance(value, yaml.SequenceNode) else [value]
    return []
