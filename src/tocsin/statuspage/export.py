"""The whole page as static files, so it can be served from elsewhere and survive the host
it reports on: `index.html` (links relative, reloading itself, with a stale banner once it is
older than `STALE_AFTER`), its stylesheet and script, the logo, the Statuspage JSON under
`api/v2/`, the Atom feed, uptime's inputs and a badge per component.

`files` reads the store (one read transaction, the caller's); `write` puts them in a folder
afterwards, each file replaced atomically, so a web server never serves half a file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from tocsin.config.status import StatusConfig
from tocsin.statuspage import feeds, history, render
from tocsin.statuspage.schemas import DOCUMENTS, Shapes
from tocsin.statuspage.service import snapshot

STALE_AFTER = 600  # seconds: the "older than 10 minutes"
RELOAD_EVERY = 60  # seconds: an open exported page fetches itself again


def files(
    session: Session, config: StatusConfig, url: str, created: datetime, now: datetime
) -> dict[str, bytes]:
    """Every file of the export, by its path relative to the folder."""
    snap = snapshot(session, config, now)
    found = history.inputs(session, config, now)
    uptime = history.per_component(session, config, now)
    html = render.page(
        snap,
        base=".",
        logo=config.logo,
        uptime=uptime,
        stale_after=STALE_AFTER,
        refresh=RELOAD_EVERY,
    )
    out = {
        "index.html": html.encode(),
        "status.css": render.CSS.read_bytes(),
        "stale.js": render.STALE_JS.read_bytes(),
        "history.atom": feeds.atom(snap, url).encode(),
        "uptime.csv": feeds.inputs_csv(found).encode(),
    }
    shapes = Shapes(snap, url, created)
    for path, make in DOCUMENTS.items():
        out[f"api/v2/{path}"] = json.dumps(make(shapes), indent=1).encode()
    for view in snap.components:
        out[f"badge/{view.id}.svg"] = feeds.badge(view).encode()
    logo = render.logo_name(config.logo)
    if config.logo is not None and logo is not None:
        out[logo] = config.logo.read_bytes()
    return out


def write(folder: Path, contents: Mapping[str, bytes]) -> list[Path]:
    """Write each file under `folder` (made if missing) through a temporary file and a rename;
    the written paths, in order."""
    written = []
    for name, data in sorted(contents.items()):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(path)
    return written
