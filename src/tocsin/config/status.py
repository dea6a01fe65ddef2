"""The public status page: the team's name and logo, the components it shows and what drives
each, which alert severities count as which outage, and where the page is published."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tocsin.config.fields import Duration, Name, Severity, Strict

ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]
DEFAULT_IMPACT: dict[Severity, ComponentStatus] = {
    "CRITICAL": "major_outage",
    "HIGH": "partial_outage",
    "WARNING": "degraded_performance",
}


def slug(name: str) -> str:
    """A component's id in URLs and the JSON: its name, lower case, runs of other characters
    made one dash (`Payments API` → `payments-api`)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "component"


class ComponentConfig(Strict):
    """One thing customers use, shown with its status; the alerts of its services, checks and
    heartbeats set that status."""

    name: str = Field(min_length=1, max_length=100, description="as customers know it")
    group: str | None = Field(
        default=None, max_length=100, description="the heading it is listed under"
    )
    description: str = Field(default="", max_length=500, description="one line under its name")
    services: list[str] = Field(
        default_factory=list, description="values of the `service` label whose alerts count"
    )
    checks: list[Name] = Field(default_factory=list, description="checks whose alerts count")
    heartbeats: list[Name] = Field(
        default_factory=list, description="heartbeats whose missed pings count"
    )

    @property
    def id(self) -> str:
        return slug(self.name)


class PublishConfig(Strict):
    """Where `tocsin run` re-exports the page as static files after every change."""

    path: Path = Field(description="the folder written (a web server's root, a pages repository)")
    within: Duration = Field(
        default=timedelta(seconds=30), description="how soon after a change the export runs"
    )


class SubscribersConfig(Strict):
    """Subscribers to the page's incidents and maintenance: email (double opt-in), signed
    webhooks, Slack and Discord incoming webhooks (off unless this section is given)."""

    secret: str = Field(
        min_length=16,
        description="signs confirm and unsubscribe links and derives each webhook "
        "subscriber's signing key (a secret: use ${VAR}; changing it voids every link and key)",
    )
    email: Name | None = Field(
        default=None,
        description="the email channel whose SMTP server and sender mail subscribers "
        "(without it, email subscriptions are refused)",
    )
    per_minute: int = Field(
        default=5, ge=1, le=1000, description="subscribe requests per client address per minute"
    )
    attempts: int = Field(
        default=8, ge=1, le=100, description="tries of one delivery before it is given up"
    )
    private_webhooks: bool = Field(
        default=False,
        description="let subscribers' webhooks reach private and loopback addresses (off: "
        "anyone may subscribe a URL, so by default they reach only public addresses)",
    )


class StatusConfig(Strict):
    """The public status page served at /status (off until it has a component)."""

    title: str = Field(default="Tocsin", max_length=100, description="the team or product name")
    logo: Path | None = Field(
        default=None,
        description="a PNG, SVG or JPEG shown beside the title, relative to this file's folder",
    )
    components: list[ComponentConfig] = Field(
        default_factory=list, description="what the page lists, in order"
    )
    impact: dict[Severity, ComponentStatus] = Field(
        default_factory=lambda: dict(DEFAULT_IMPACT),
        description="the status an open alert of each severity gives its component "
        "(a severity left out does not count)",
    )
    maintenance: bool = Field(
        default=True,
        description="show public maintenance windows (`--public`) covering a component's "
        "services as scheduled maintenance (and those components as under maintenance while "
        "they run)",
    )
    publish: PublishConfig | None = Field(
        default=None, description="re-export the page to a folder after every change"
    )
    subscribers: SubscribersConfig | None = Field(
        default=None, description="let customers subscribe to incidents and maintenance"
    )

    @field_validator("logo")
    @classmethod
    def _image(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() not in LOGO_TYPES:
            raise ValueError(f"the logo must be one of {', '.join(sorted(LOGO_TYPES))}")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> StatusConfig:
        seen: set[str] = set()
        for component in self.components:
            if component.id in seen:
                raise ValueError(f"two components are both named like {component.name!r}")
            seen.add(component.id)
        return self

    def relative_to(self, folder: Path) -> StatusConfig:
        """This section with its paths made relative to `folder` (the configuration's)."""
        update: dict[str, object] = {}
        if self.logo is not None:
            update["logo"] = folder / self.logo
        if self.publish is not None:
            update["publish"] = self.publish.model_copy(update={"path": folder / self.publish.path})
        return self.model_copy(update=update)


LOGO_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
