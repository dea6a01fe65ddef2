"""References between sections, checked once every section is valid on its own: a check's
source and channels, a route's policy, an escalation step's targets, a schedule's users and
backup, and names that must be unique. A new subject adds its function to `cross_check`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tocsin.config.model import TocsinConfig
from tocsin.config.problems import Loc
from tocsin.config.routing import RouteConfig
from tocsin.errors import Invalid

At = Callable[[Loc, str], None]


def cross_check(config: TocsinConfig) -> list[tuple[Loc, str]]:
    """References between sections (sources, channels, policies, users, schedules) and unique
    names, each problem at the place in the file it is about."""
    problems: list[tuple[Loc, str]] = []

    def at(loc: Loc, message: str) -> None:
        problems.append((loc, message))

    for subject in (_heartbeats, _checks, _routing, _oncall, _noise):
        subject(config, at)
    return problems


def _heartbeats(config: TocsinConfig, at: At) -> None:
    beats: dict[str, int] = {}
    for i, beat in enumerate(config.heartbeats):
        if beat.name in beats:
            at(
                ("heartbeats", i, "name"),
                f"{beat.name!r} is already heartbeats[{beats[beat.name]}]",
            )
        beats.setdefault(beat.name, i)


def _checks(config: TocsinConfig, at: At) -> None:
    """Check names are unique; a check's source exists and suits its query; its channels exist."""
    seen: dict[str, int] = {}
    for i, check in enumerate(config.checks):
        if check.name in seen:
            at(
                ("checks", i, "name"),
                f"{check.name!r} is already the name of checks[{seen[check.name]}]",
            )
        seen.setdefault(check.name, i)
        source = config.sources.get(check.source)
        if source is None:
            known = _known(config.sources)
            at(("checks", i, "source"), f"source {check.source!r} does not exist (known: {known})")
        elif source.type in ("sql", "prometheus") and check.query is None and not check.queries:
            at(("checks", i), f"a {source.type} check needs 'query' or 'queries'")
        elif source.type == "http" and (check.query or check.queries):
            at(
                ("checks", i, "query"),
                "an http check takes no query; write conditions on its columns",
            )
        if (
            check.baseline
            and check.baseline.history is None
            and source is not None
            and source.type != "sql"
        ):
            at(("checks", i, "baseline"), "a baseline query needs an sql source; use 'history'")
        for name in check.notify or []:
            if name not in config.channels:
                known = _known(config.channels)
                at(("checks", i, "notify"), f"channel {name!r} does not exist (known: {known})")


def _noise(config: TocsinConfig, at: At) -> None:
    """Known issues, silences and maintenance windows each have unique ids."""
    for section in ("known_issues", "silences", "maintenance"):
        ids: dict[str, int] = {}
        for i, item in enumerate(getattr(config, section)):
            if item.id in ids:
                at(
                    (section, i, "id"),
                    f"{item.id!r} is already the id of {section}[{ids[item.id]}]",
                )
            ids.setdefault(item.id, i)


def _routing(config: TocsinConfig, at: At) -> None:
    """Routes, escalation steps and the fallback name channels, policies and targets that exist."""
    known_channels = _known(config.channels)

    def channel(loc: Loc, name: str) -> None:
        if name not in config.channels:
            at(loc, f"channel {name!r} does not exist (known: {known_channels})")

    def route(node: RouteConfig, loc: Loc, digest: bool = False) -> None:
        digest = node.digest if node.digest is not None else digest
        for name in node.notify or []:
            channel((*loc, "notify"), name)
            spec = config.channels.get(name)
            if digest and spec is not None and spec.type not in ("email", "console"):
                at((*loc, "notify"), f"a digest goes by email or console, not {spec.type} ({name})")
        if node.escalation is not None and node.escalation not in config.escalation_policies:
            known = _known(config.escalation_policies)
            at((*loc, "escalation"), f"policy {node.escalation!r} does not exist (known: {known})")
        for i, child in enumerate(node.routes):
            route(child, (*loc, "routes", i), digest)

    if config.routes is not None:
        route(config.routes, ("routes",))
    for name, policy in config.escalation_policies.items():
        for i, step in enumerate(policy.steps):
            loc: Loc = ("escalation_policies", name, "steps", i)
            for target in step.notify:
                if ":" not in target:
                    channel((*loc, "notify"), target)
                else:
                    try:
                        check_target(config, target)
                    except Invalid as exc:
                        at((*loc, "notify"), str(exc))
            for name_ in step.via or []:
                channel((*loc, "via"), name_)
    for name in config.notifications.fallback or []:
        channel(("notifications", "fallback"), name)


def _oncall(config: TocsinConfig, at: At) -> None:
    """Schedules name known users and a known backup; layer names are unique per schedule."""
    users = _known(config.users)
    for name, schedule in config.schedules.items():
        if schedule.backup is not None and schedule.backup not in config.schedules:
            known = _known(config.schedules)
            at(
                ("schedules", name, "backup"),
                f"schedule {schedule.backup!r} does not exist (known: {known})",
            )
        elif schedule.backup == name:
            at(("schedules", name, "backup"), "a schedule cannot be its own backup")
        seen: set[str] = set()
        for i, layer in enumerate(schedule.layers):
            if layer.name in seen:
                at(("schedules", name, "layers", i, "name"), f"layer {layer.name!r} is repeated")
            seen.add(layer.name)
            for j, user in enumerate(layer.participants):
                if user not in config.users:
                    at(
                        ("schedules", name, "layers", i, "participants", j),
                        f"user {user!r} does not exist (known: {users})",
                    )


def check_target(config: TocsinConfig, target: str) -> None:
    """Raise Invalid unless `target` names a known user, schedule, or schedule with a backup."""
    kind, _, rest = target.partition(":")
    name, _, role = rest.partition(":")
    if kind == "user" and not role:
        if name not in config.users:
            raise Invalid(
                f"target {target!r}: user {name!r} does not exist (known: {_known(config.users)})"
            )
        return
    if kind == "schedule" and role in ("", "backup"):
        spec = config.schedules.get(name)
        if spec is None:
            raise Invalid(
                f"target {target!r}: schedule {name!r} does not exist "
                f"(known: {_known(config.schedules)})"
            )
        if role == "backup" and spec.backup is None:
            raise Invalid(f"schedule {name!r} has no backup schedule")
        return
    raise Invalid(f"target {target!r} is not user:NAME, schedule:NAME or schedule:NAME:backup")


def _known(names: Mapping[str, object]) -> str:
    return ", ".join(sorted(names)) or "none are defined"
