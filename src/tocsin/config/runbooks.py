"""Runbooks: the folder of Markdown files that alerts link to (`/runbooks/<id>`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from tocsin.config.fields import Strict


class RunbooksConfig(Strict):
    """The Markdown runbooks that alerts and notifications link to, served at /runbooks/<id>."""

    path: Path = Field(
        default=Path("runbooks"),
        description="the folder of runbook files, relative to the configuration file's folder",
    )

    def relative_to(self, folder: Path) -> RunbooksConfig:
        """This section with `path` made relative to `folder` (the configuration's), so that
        the same file works from any working directory."""
        return self.model_copy(update={"path": folder / self.path})
