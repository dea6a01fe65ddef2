"""Customer communication from templates, rendered with an incident's data: reference 002's
"Service Restored - Data Recovery Complete" and a status update are shipped; a user's own
(`incidents.templates`) are sandboxed Jinja2 too. A template error is Invalid, naming the
template and the line; nothing is sent or stored (`tocsin incident comms` prints)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from tocsin.config.incidents import IncidentsConfig
from tocsin.errors import Invalid

SHIPPED = {
    # Reference 002, "Customer Communication" of the database recovery runbook.
    "data-recovery-complete": """\
Subject: Service Restored - Data Recovery Complete

We experienced a data issue affecting {{ services }} from {{ start_time }} to {{ end_time }}.
Our team has successfully recovered all data from backups.

Timeline:
- {{ detected_at }}: Issue detected
- {{ mitigating_at }}: Recovery initiated
- {{ resolved_at }}: Service restored

Impact: {{ incident.customer_impact or "[Describe specific impact]" }}
Resolution: {{ resolution or "[Describe recovery process]" }}

We apologize for any inconvenience. If you have questions, contact {{ contact }}.
""",
    # Reference 000 6.3.2 step 6's status update, as words for customers.
    "status-update": """\
Subject: [{{ incident.status|capitalize }}] {{ incident.title }}

Status: {{ incident.status }}
Customer impact: {{ incident.customer_impact or "being assessed" }}
Expected resolution: {{ incident.eta or "being assessed" }}
Last update: {{ last_update_at }}

{{ resolution or "We are investigating and will post another update within 15 minutes." }}
""",
}

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def names(config: IncidentsConfig) -> list[str]:
    return sorted({*SHIPPED, *config.templates})


def render(config: IncidentsConfig, name: str, detail: Mapping[str, Any]) -> str:
    """`name` rendered over `detail` (`incident_detail`'s shape)."""
    source = config.templates.get(name, SHIPPED.get(name))
    if source is None:
        raise Invalid(f"template: {name!r} is not one of {', '.join(names(config))}")
    try:
        return str(_env.from_string(source).render(**variables(config, detail)))
    except (TemplateError, SecurityError, TypeError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise Invalid(f"template {name!r}{where}: {exc}") from None


def variables(config: IncidentsConfig, detail: Mapping[str, Any]) -> dict[str, Any]:
    """What a template can use: `incident` (the whole detail), times as text, `services`,
    `resolution` (the last update's message), `contact`."""
    updates = detail.get("updates") or []
    alerts = detail.get("alerts") or []
    started = [a["started_at"] for a in alerts] + [detail["declared_at"]]
    return {
        "incident": dict(detail),
        "services": ", ".join(detail.get("services") or []) or "our service",
        "start_time": _t(min(started)),
        "end_time": _t(detail.get("resolved_at")) if detail.get("resolved_at") else "now",
        "detected_at": _t(min(started)),
        "mitigating_at": _t(detail.get("mitigating_at") or detail.get("identified_at")),
        "resolved_at": _t(detail.get("resolved_at")),
        "last_update_at": _t(detail.get("last_update_at")),
        "resolution": updates[-1]["message"] if updates else "",
        "contact": config.contact,
    }


def _t(at: datetime | None) -> str:
    return "[TIME]" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")
