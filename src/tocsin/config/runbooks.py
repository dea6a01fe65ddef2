"""Runbooks: the folder of Markdown files that alerts link to (`/runbooks/<id>`), and what
their executable steps may do."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from pydantic import Field, field_validator

from tocsin.config.fields import Duration, Strict

_COMMAND = re.compile(r"^[A-Za-z0-9._+-]+$")


class ShellConfig(Strict):
    """Shell steps: off unless enabled, and then only the commands listed."""

    enabled: bool = Field(
        default=False,
        description="run `sh` steps at all; off, they are shown and refused when asked for",
    )
    allow: list[str] = Field(
        default_factory=list,
        description="the commands (first words, like `curl` or `pg_isready`) a step may run",
    )
    path: str = Field(
        default="/usr/local/bin:/usr/bin:/bin",
        description="PATH of the clean environment commands run in (nothing else is passed)",
    )

    @field_validator("allow")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _COMMAND.match(name):
                raise ValueError(f"{name!r} is not a command name (no paths, no spaces)")
        return value


class RunbooksConfig(Strict):
    """The Markdown runbooks that alerts and notifications link to, served at /runbooks/<id>,
    and the rules their steps run under."""

    path: Path = Field(
        default=Path("runbooks"),
        description="the folder of runbook files, relative to the configuration file's folder",
    )
    writable_sources: list[str] = Field(
        default_factory=list,
        description='SQL sources that `"mode": "write"` steps may change (after the incident '
        "commander's approval); every other source is opened read-only",
    )
    shell: ShellConfig = Field(default_factory=ShellConfig, description="shell steps")
    step_timeout: Duration = Field(
        default=timedelta(seconds=30),
        description="how long a step without its own `timeout` may run",
    )
    auto_timeout: Duration = Field(
        default=timedelta(seconds=5),
        description='how long the `"auto": true` steps of a check\'s runbook may take in all '
        "when its alert fires, before the notification is written without them",
    )
    check_every: Duration = Field(
        default=timedelta(days=1),
        description="how often every read-only step is run against the real sources to find "
        "runbooks that rotted (a failing step raises a WARNING alert); 0 turns it off",
    )

    def relative_to(self, folder: Path) -> RunbooksConfig:
        """This section with `path` made relative to `folder` (the configuration's), so that
        the same file works from any working directory."""
        return self.model_copy(update={"path": folder / self.path})
