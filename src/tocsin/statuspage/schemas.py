"""The page as Atlassian Statuspage's public API v2 answers it (`/api/v2/summary.json`…):
the same field names, statuses and impact values, so widgets and clients written for
Statuspage read Tocsin's page. Groups are components with `group: true` listing their
members' ids, as Statuspage does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from tocsin.config.status import slug
from tocsin.statuspage.components import worst
from tocsin.statuspage.service import ComponentView, IncidentView, Maintenance, Snapshot

Json = dict[str, Any]


def stamp(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


class Shapes:
    """The JSON documents of one snapshot; `url` is the page's public address and `created`
    stands in for Statuspage's creation times (components exist since the server started)."""

    def __init__(self, snap: Snapshot, url: str, created: datetime) -> None:
        self.snap = snap
        self.url = url
        self.created = created
        self.page_id = slug(snap.title)

    def page(self) -> Json:
        return {
            "id": self.page_id,
            "name": self.snap.title,
            "url": self.url,
            "time_zone": "Etc/UTC",
            "updated_at": stamp(self.snap.at),
        }

    def status(self) -> Json:
        return {
            "page": self.page(),
            "status": {"indicator": self.snap.indicator, "description": self.snap.description},
        }

    def components(self) -> Json:
        return {"page": self.page(), "components": self._components()}

    def incidents(self, incidents: Sequence[IncidentView]) -> Json:
        return {"page": self.page(), "incidents": [self._incident(i) for i in incidents]}

    def maintenances(self, which: str | None = None) -> Json:
        """All shown windows, or those `scheduled` or `in_progress`."""
        shown = [self._maintenance(m) for m in self.snap.maintenances]
        if which is not None:
            shown = [m for m in shown if m["status"] == which]
        return {"page": self.page(), "scheduled_maintenances": shown}

    def summary(self) -> Json:
        return {
            "page": self.page(),
            "components": self._components(),
            "incidents": [self._incident(i) for i in self.snap.incidents],
            "scheduled_maintenances": [self._maintenance(m) for m in self.snap.maintenances],
            "status": self.status()["status"],
        }

    # --- the objects -------------------------------------------------------------------------

    def _component(self, view: ComponentView, position: int, group_id: str | None) -> Json:
        return {
            "id": view.id,
            "name": view.config.name,
            "status": view.status,
            "created_at": stamp(self.created),
            "updated_at": stamp(view.since or self.created),
            "position": position,
            "description": view.config.description or None,
            "showcase": True,
            "start_date": None,
            "group_id": group_id,
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def _components(self) -> list[Json]:
        out: list[Json] = []
        position = 1
        for group, views in self.snap.groups:
            group_id = None if group is None else f"group-{slug(group)}"
            if group is not None:
                out.append(
                    {
                        **self._component(views[0], position, None),
                        "id": group_id,
                        "name": group,
                        "status": worst(v.status for v in views),
                        "description": None,
                        "updated_at": stamp(self.snap.at),
                        "group": True,
                        "components": [v.id for v in views],
                    }
                )
                position += 1
            for view in views:
                out.append(self._component(view, position, group_id))
                position += 1
        return out

    def _listed(self, ids: Sequence[str]) -> list[Json]:
        wanted = set(ids)
        return [c for c in self._components() if c["id"] in wanted]

    def _incident(self, incident: IncidentView) -> Json:
        updates = [
            {
                "id": u.id,
                "status": u.status,
                "body": u.body,
                "incident_id": incident.id,
                "created_at": stamp(u.created_at),
                "updated_at": stamp(u.created_at),
                "display_at": stamp(u.created_at),
                "affected_components": None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for u in incident.updates
        ]
        return {
            "id": incident.id,
            "name": incident.name,
            "status": incident.status,
            "created_at": stamp(incident.created_at),
            "updated_at": stamp(incident.updated_at),
            "monitoring_at": _first(incident, "monitoring"),
            "resolved_at": stamp(incident.resolved_at),
            "impact": incident.impact,
            "shortlink": f"{self.url}#incident-{incident.id}",
            "started_at": stamp(incident.created_at),
            "page_id": self.page_id,
            "incident_updates": updates,
            "components": self._listed(incident.components),
        }

    def _maintenance(self, window: Maintenance) -> Json:
        status = "in_progress" if window.active else "scheduled"
        update = {
            "id": f"{window.id}-{status}",
            "status": status,
            "body": window.description or window.title,
            "incident_id": window.id,
            "created_at": stamp(window.created_at),
            "updated_at": stamp(window.created_at),
            "display_at": stamp(window.starts_at if window.active else window.created_at),
            "affected_components": None,
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }
        return {
            "id": window.id,
            "name": window.title,
            "status": status,
            "created_at": stamp(window.created_at),
            "updated_at": stamp(window.created_at),
            "monitoring_at": None,
            "resolved_at": None,
            "impact": "maintenance",
            "shortlink": f"{self.url}#maintenance-{window.id}",
            "started_at": stamp(window.starts_at),
            "page_id": self.page_id,
            "incident_updates": [update],
            "components": self._listed(window.components),
            "scheduled_for": stamp(window.starts_at),
            "scheduled_until": stamp(window.ends_at),
        }


def _first(incident: IncidentView, status: str) -> str | None:
    times = [u.created_at for u in incident.updates if u.status == status]
    return stamp(min(times)) if times else None


INCIDENTS_LISTED = 50  # Statuspage's incidents.json lists the 50 most recent
# Each document by its path under /api/v2/, for the routes and the static export.
DOCUMENTS: dict[str, Callable[[Shapes], Json]] = {
    "summary.json": Shapes.summary,
    "status.json": Shapes.status,
    "components.json": Shapes.components,
    "incidents.json": lambda s: s.incidents(
        [*s.snap.incidents, *s.snap.history][:INCIDENTS_LISTED]
    ),
    "incidents/unresolved.json": lambda s: s.incidents(s.snap.incidents),
    "scheduled-maintenances.json": lambda s: s.maintenances(),
    "scheduled-maintenances/upcoming.json": lambda s: s.maintenances("scheduled"),
    "scheduled-maintenances/active.json": lambda s: s.maintenances("in_progress"),
}
