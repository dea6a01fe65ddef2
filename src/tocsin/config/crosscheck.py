"""References between sections: a check's source and channels, a route's policy, an escalation
step's targets, a schedule's users and backup, and names that must be unique. They run over the
entries that validated (`lenient.Survivors`), so they are named with the schema's errors in one
pass. A new subject adds its function to `cross_check`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tocsin.config.lenient import Survivors, whole
from tocsin.config.model import TocsinConfig
from tocsin.config.problems import Loc
from tocsin.config.reports import QuerySectionConfig, SlosSectionConfig
from tocsin.config.routing import RouteConfig
from tocsin.errors import Invalid

At = Callable[[Loc, str], None]


def cross_check(found: TocsinConfig | Survivors) -> list[tuple[Loc, str]]:
    """References between sections (sources, channels, policies, users, schedules) and unique
    names, each problem at the place in the file it is about."""
    file = found if isinstance(found, Survivors) else whole(found)
    problems: list[tuple[Loc, str]] = []

    def at(loc: Loc, message: str) -> None:
        problems.append((file.in_file(loc), message))

    for subject in (_heartbeats, _checks, _routing, _oncall, _noise, _incidents, _reports, _slos):
        subject(file, at)
    return problems


def _heartbeats(file: Survivors, at: At) -> None:
    _unique(file, "heartbeats", (beat.name for beat in file.config.heartbeats), "name", at)


def _reports(file: Survivors, at: At) -> None:
    """A report's channels and its query sections' sources exist."""
    for name, report in file.config.reports.items():
        for j, channel in enumerate(report.channels):
            if not file.exists("channels", channel):
                known = _known(file.names("channels"))
                at(
                    ("reports", name, "channels", j),
                    f"channel {channel!r} does not exist (known: {known})",
                )
        for k, section in enumerate(report.sections):
            if isinstance(section, SlosSectionConfig):
                for m, slo in enumerate(section.slos or []):
                    if not file.exists("slos", slo):
                        at(
                            ("reports", name, "sections", k, "slos", m),
                            f"SLO {slo!r} does not exist (known: {_known(file.names('slos'))})",
                        )
            source = section.source if isinstance(section, QuerySectionConfig) else None
            if source is not None and not file.exists("sources", source):
                known = _known(file.names("sources"))
                at(
                    ("reports", name, "sections", k, "source"),
                    f"source {source!r} does not exist (known: {known})",
                )


def _slos(file: Survivors, at: At) -> None:
    """An SLO's check or heartbeat exists."""
    checks = {check.name for check in file.config.checks}
    beats = {beat.name for beat in file.config.heartbeats}
    for name, slo in file.config.slos.items():
        check = slo.sli.check
        if check is not None and check not in checks:
            at(
                ("slos", name, "sli", "check"),
                f"check {check!r} does not exist (known: {_known(checks)})",
            )
        beat = getattr(slo.sli, "heartbeat", None)
        if beat is not None and beat not in beats:
            at(
                ("slos", name, "sli", "heartbeat"),
                f"heartbeat {beat!r} does not exist (known: {_known(beats)})",
            )


def _unique(file: Survivors, section: str, names: Iterable[str], field: str, at: At) -> None:
    """Each of a list section's entries has its own `field`."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            first = file.in_file((section, seen[name]))[1]
            at((section, i, field), f"{name!r} is already the {field} of {section}[{first}]")
        seen.setdefault(name, i)


def _checks(file: Survivors, at: At) -> None:
    """Check names are unique; a check's source exists and suits its query; its channels exist."""
    config = file.config
    _unique(file, "checks", (check.name for check in config.checks), "name", at)
    for i, check in enumerate(config.checks):
        source = config.sources.get(check.source)
        if source is None and not file.exists("sources", check.source):
            known = _known(file.names("sources"))
            at(("checks", i, "source"), f"source {check.source!r} does not exist (known: {known})")
        elif source is None:
            pass  # defined but invalid: its own problems are named
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
            if not file.exists("channels", name):
                known = _known(file.names("channels"))
                at(("checks", i, "notify"), f"channel {name!r} does not exist (known: {known})")


def _noise(file: Survivors, at: At) -> None:
    """Known issues, silences and maintenance windows each have unique ids."""
    for section in ("known_issues", "silences", "maintenance"):
        _unique(file, section, (item.id for item in getattr(file.config, section)), "id", at)


def _routing(file: Survivors, at: At) -> None:
    """Routes, escalation steps and the fallback name channels, policies and targets that exist."""
    config = file.config
    known_channels = _known(file.names("channels"))

    def channel(loc: Loc, name: str) -> None:
        if not file.exists("channels", name):
            at(loc, f"channel {name!r} does not exist (known: {known_channels})")

    def route(node: RouteConfig, loc: Loc, digest: bool = False) -> None:
        digest = node.digest if node.digest is not None else digest
        for name in node.notify or []:
            channel((*loc, "notify"), name)
            spec = config.channels.get(name)
            if digest and spec is not None and spec.type not in ("email", "console"):
                at((*loc, "notify"), f"a digest goes by email or console, not {spec.type} ({name})")
        if node.escalation is not None and not file.exists("escalation_policies", node.escalation):
            known = _known(file.names("escalation_policies"))
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
                elif not _left_out(file, target):
                    try:
                        check_target(config, target)
                    except Invalid as exc:
                        at((*loc, "notify"), str(exc))
            for name_ in step.via or []:
                channel((*loc, "via"), name_)
    for name in config.notifications.fallback or []:
        channel(("notifications", "fallback"), name)


def _left_out(file: Survivors, target: str) -> bool:
    """Whether a `user:`/`schedule:` target names an entry the file has but that is invalid."""
    kind, _, rest = target.partition(":")
    name = rest.partition(":")[0]
    section = {"user": "users", "schedule": "schedules"}.get(kind)
    if section is None:
        return False
    return file.exists(section, name) and name not in getattr(file.config, section)


def _oncall(file: Survivors, at: At) -> None:
    """Schedules name known users and a known backup; layer names are unique per schedule."""
    config = file.config
    users = _known(file.names("users"))
    for name, schedule in config.schedules.items():
        if schedule.backup is not None and not file.exists("schedules", schedule.backup):
            known = _known(file.names("schedules"))
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
                if not file.exists("users", user):
                    at(
                        ("schedules", name, "layers", i, "participants", j),
                        f"user {user!r} does not exist (known: {users})",
                    )


def _incidents(file: Survivors, at: At) -> None:
    """The incidents' channels exist; their on-call targets name known users and schedules;
    their impact queries' sources exist and are SQL."""
    config = file.config.incidents
    known = _known(file.names("channels"))
    for field, names in (("channels", config.channels), ("via", config.via or [])):
        for i, name in enumerate(names):
            if not file.exists("channels", name):
                at(("incidents", field, i), f"channel {name!r} does not exist (known: {known})")
    for service, target in config.oncall.items():
        if _left_out(file, target):
            continue
        try:
            check_target(file.config, target)
        except Invalid as exc:
            at(("incidents", "oncall", service), str(exc))
    for service, spec in config.impact.items():
        source = file.config.sources.get(spec.source)
        if source is None and not file.exists("sources", spec.source):
            known = _known(file.names("sources"))
            at(
                ("incidents", "impact", service, "source"),
                f"source {spec.source!r} does not exist (known: {known})",
            )
        elif source is not None and source.type != "sql":
            at(("incidents", "impact", service, "source"), "an impact query needs an sql source")


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


def _known(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "none are defined"
