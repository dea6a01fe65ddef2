"""Routing: which channels and which escalation policy an alert goes to. Pure.

The route tree has Alertmanager's semantics: a node matches when all its matchers do; its
children are tried in order and the first that matches wins, unless it says `continue`, in
which case later siblings are tried too; a node none of whose children match is itself the
result. Children inherit `notify`, `escalation` and `digest` from their parent.

Alerts are matched on their labels plus `severity`, `check` and `origin`, so a route can say
`severity="CRITICAL"` or `check=~"payment.*"` without those being copied into every label set.

Without a `routes:` section, reference 000 §6.2.1's matrix is the tree, built from the channel
types configured (see `default_routes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tocsin.config.channels import ChannelConfig
from tocsin.config.model import TocsinConfig
from tocsin.config.routing import RouteConfig
from tocsin.matchers import Matcher, matches_all, parse_matcher
from tocsin.outbox.service import Delivery

# §6.2.1: CRITICAL → PagerDuty, phone, SMS, Discord @here; HIGH → Discord, email, Slack;
# WARNING → Discord, email; INFO → email digest and log. Console ("log") and webhooks (machine
# integrations) get every severity.
MATRIX: dict[str, tuple[str, ...]] = {
    "CRITICAL": ("pagerduty", "twilio", "discord"),
    "HIGH": ("discord", "email", "slack"),
    "WARNING": ("discord", "email"),
    "INFO": (),
}
EVERY_SEVERITY = ("console", "webhook")
DEFAULT_POLICIES = {"CRITICAL": "critical", "HIGH": "high", "WARNING": "warning"}


@dataclass(frozen=True)
class Route:
    """Where one alert goes: channels told at once (or in the digest) and a policy to run."""

    channels: tuple[str, ...]
    escalation: str | None = None
    digest: bool = False
    incident: bool = False  # `incident: auto`: the alert declares or joins an incident


@dataclass(frozen=True)
class _Node:
    matchers: tuple[Matcher, ...]
    route: Route
    carry_on: bool  # `continue`
    children: tuple[_Node, ...]


def match_labels(
    labels: Mapping[str, str], severity: str, check: str | None, origin: str
) -> dict[str, str]:
    out = dict(labels)
    out["severity"] = severity
    out["origin"] = origin
    if check is not None:
        out["check"] = check
    return out


class Router:
    def __init__(self, config: TocsinConfig) -> None:
        tree = config.routes if config.routes is not None else default_routes(config)
        self.root = _compile(tree, Route(tuple(sorted(config.channels))))
        self._targets = {name: spec.targets() for name, spec in config.channels.items()}

    def route(self, labels: Mapping[str, str]) -> list[Route]:
        """Every route the alert takes (more than one only through `continue`)."""
        return _walk(self.root, labels) or [self.root.route]

    def deliveries(self, channels: Sequence[str]) -> list[Delivery]:
        """One delivery per channel target (one per number for SMS and voice), so a retry to
        one failing target never repeats the others."""
        return [
            (channel, target)
            for channel in channels
            for target in self._targets.get(channel, [None])
        ]


def merge(routes: list[Route]) -> tuple[list[str], list[str], list[str]]:
    """(channels now, channels in the digest, escalation policies), each in order, no repeats."""
    now: list[str] = []
    digest: list[str] = []
    policies: list[str] = []
    for route in routes:
        target = digest if route.digest else now
        target.extend(c for c in route.channels if c not in target)
        if route.escalation is not None and route.escalation not in policies:
            policies.append(route.escalation)
    digest = [c for c in digest if c not in now]
    return now, digest, policies


def _compile(node: RouteConfig, parent: Route) -> _Node:
    route = Route(
        tuple(node.notify) if node.notify is not None else parent.channels,
        node.escalation if node.escalation is not None else parent.escalation,
        node.digest if node.digest is not None else parent.digest,
        node.incident == "auto" if node.incident is not None else parent.incident,
    )
    return _Node(
        tuple(parse_matcher(m) for m in node.matchers),
        route,
        node.continue_,
        tuple(_compile(child, route) for child in node.routes),
    )


def _walk(node: _Node, labels: Mapping[str, str]) -> list[Route]:
    if not matches_all(node.matchers, labels):
        return []
    found: list[Route] = []
    for child in node.children:
        below = _walk(child, labels)
        if below:
            found.extend(below)
            if not child.carry_on:
                break
    return found or [node.route]


def default_routes(config: TocsinConfig) -> RouteConfig:
    """§6.2.1's matrix over the channels this configuration has. A severity none of the
    configured channels serves goes to every channel: nothing is dropped for want of a type.
    A policy named `critical`, `high` or `warning`, when configured, escalates that severity."""
    by_type: dict[str, list[str]] = {}
    for name, spec in sorted(config.channels.items()):
        by_type.setdefault(_kind(spec), []).append(name)
    always = [name for kind in EVERY_SEVERITY for name in by_type.get(kind, [])]
    every = sorted(config.channels)
    children: list[RouteConfig] = []
    for severity, kinds in MATRIX.items():
        matched = f'severity="{severity}"'
        chosen = [name for kind in kinds for name in by_type.get(kind, [])]
        if severity == "INFO" and by_type.get("email"):
            digest = {"matchers": [matched], "notify": by_type["email"], "digest": True}
            children.append(RouteConfig.model_validate({**digest, "continue": True}))
        if severity == "INFO":  # the log at once; email only in the digest
            notify = always if always or by_type.get("email") else every
        else:
            notify = chosen + always if chosen else every
        policy = DEFAULT_POLICIES.get(severity)
        children.append(
            RouteConfig(
                matchers=[matched],
                notify=notify,
                escalation=policy if policy in config.escalation_policies else None,
            )
        )
    return RouteConfig(notify=every, routes=children)


def _kind(spec: ChannelConfig) -> str:
    return spec.type
