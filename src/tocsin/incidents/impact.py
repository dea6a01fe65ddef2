"""Customer impact in figures: the `incidents.impact` query of each of the incident's services
(or `*`), run on its SQL source over the incident's window when the post-mortem is drafted.

The query runs through the checks' `SqlSource` (read-only transaction, the source's statement
timeout, a row cap), with `:start` and `:end` bound to the window in UTC; each row becomes one
line of figures. A query that cannot run (source down, timeout, bad SQL) says so in the draft
in one line instead: a post-mortem is never held back by it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tocsin.checks.sources import open_source
from tocsin.config import TocsinConfig
from tocsin.errors import SourceError

MAX_LINES = 20


def lines(
    config: TocsinConfig, services: Sequence[str], start: datetime, end: datetime
) -> list[str]:
    """The Markdown lines of figures for the incident's window; [] when nothing is set."""
    wanted = [s for s in services if s in config.incidents.impact]
    if not wanted and "*" in config.incidents.impact:
        wanted = ["*"]
    out: list[str] = []
    for service in wanted:
        spec = config.incidents.impact[service]
        where = "any service" if service == "*" else service
        source_config = config.sources.get(spec.source)
        if source_config is None:
            out.append(f"- {where}: source {spec.source!r} is not configured")
            continue
        try:
            source = open_source(source_config)
            try:
                rows = source.fetch(spec.query, {"start": start, "end": end})
            finally:
                source.close()
        except SourceError as exc:
            out.append(f"- {where}: not computed ({exc})")
            continue
        if not rows:
            out.append(f"- {where}: the query returned no rows")
        for row in rows[:MAX_LINES]:
            figures = ", ".join(f"{key} = {_figure(value)}" for key, value in row.items())
            out.append(f"- {where}: {figures}")
    return out


def _figure(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
