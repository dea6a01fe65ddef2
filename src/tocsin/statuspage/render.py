"""The status page's HTML, made from a snapshot: served at /status (`web/status_pages.py`)
and written to files by the export (so both show the same page, links relative to `base`).
It lives here, not in `web/`, because the worker's publish step renders it too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tocsin.statuspage.components import LABELS
from tocsin.statuspage.schemas import stamp
from tocsin.statuspage.service import Snapshot

TEMPLATES = Path(__file__).parent / "templates"
CSS = TEMPLATES / "status.css"
STALE_JS = TEMPLATES / "stale.js"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_env.filters["iso"] = stamp
_env.filters["utc"] = lambda at: at.strftime("%Y-%m-%d %H:%M UTC")
_env.filters["hhmm"] = lambda at: at.strftime("%H:%M")


def logo_name(logo: Path | None) -> str | None:
    """The logo's file name under the page (`logo.png`…), or None without one."""
    return None if logo is None else f"logo{logo.suffix.lower()}"


def page(
    snap: Snapshot,
    *,
    base: str,
    logo: Path | None = None,
    uptime: Mapping[str, Any] | None = None,
    subscribe: bool = False,
    stale_after: int | None = None,
    refresh: int | None = None,
) -> str:
    """The page's HTML. For an exported copy, `stale_after` (seconds) links the small script
    that shows the stale banner once the copy is older than that, and `refresh` (seconds)
    has the browser reload it."""
    upcoming = [m for m in snap.maintenances if not m.active]
    return _env.get_template("page.html").render(
        snap=snap,
        base=base,
        logo=logo_name(logo),
        labels=LABELS,
        names={v.id: v.config.name for v in snap.components},
        active=[m for m in snap.maintenances if m.active],
        upcoming=upcoming,
        uptime=uptime or {},
        incidents=snap.incidents,
        history=snap.history,
        subscribe=subscribe,
        stale_after=stale_after,
        refresh=refresh,
    )


def subscribe_page(
    title: str,
    *,
    base: str,
    heading: str,
    message: str = "",
    form: str | None = None,
    components: Sequence[Any] = (),
    subscriber_id: str = "",
    token: str = "",
    button: str = "",
) -> str:
    """The subscribe form (`form="subscribe"`), a confirm or unsubscribe button posting back
    (`form` its action: links in mail are opened by scanners, so a GET changes nothing), or
    a message."""
    return _env.get_template("subscribe.html").render(
        title=title,
        base=base,
        heading=heading,
        message=message,
        form=form,
        components=components,
        subscriber_id=subscriber_id,
        token=token,
        button=button,
    )
