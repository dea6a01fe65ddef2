"""The page's other renderings (pure): the Atom feed of incidents and maintenance, an SVG
badge per component, and uptime's inputs as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

from tocsin.statuspage.components import LABELS
from tocsin.statuspage.history import Inputs
from tocsin.statuspage.schemas import stamp
from tocsin.statuspage.service import ComponentView, Snapshot

# Badge colours (white text on them keeps a 4.5:1 contrast).
BADGE = {
    "operational": "#1e7a3c",
    "under_maintenance": "#1f5fa8",
    "degraded_performance": "#8a5a00",
    "partial_outage": "#a84300",
    "major_outage": "#b00020",
}
CHAR_WIDTH = 7  # px per character of 11px Verdana, near enough for a badge


def atom(snap: Snapshot, url: str) -> str:
    """Entries for each public incident (its latest update) and each maintenance shown."""
    entries = []
    for incident in [*snap.incidents, *snap.history]:
        latest = incident.updates[0] if incident.updates else None
        body = f"{latest.status}: {latest.body}" if latest else incident.status
        entries.append((f"incident-{incident.id}", incident.name, incident.updated_at, body))
    for m in snap.maintenances:
        when = f"{stamp(m.starts_at)} to {stamp(m.ends_at)}"
        body = f"Scheduled maintenance {when}. {m.description}".strip()
        entries.append((f"maintenance-{m.id}", m.title, m.created_at, body))
    entries.sort(key=lambda e: e[2], reverse=True)
    updated = stamp(entries[0][2]) if entries else stamp(snap.at)
    items = "".join(
        f"<entry><id>{escape(url)}#{escape(key)}</id><title>{escape(title)}</title>"
        f"<updated>{stamp(at)}</updated><link href={quoteattr(url + '#' + key)}/>"
        f'<content type="text">{escape(body)}</content></entry>\n'
        for key, title, at, body in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<id>{escape(url)}</id><title>{escape(snap.title)} status</title>"
        f"<updated>{updated}</updated><link href={quoteattr(url)}/>"
        f"<author><name>{escape(snap.title)}</name></author>\n{items}</feed>\n"
    )


def badge(view: ComponentView) -> str:
    """A flat badge, `name | status`, with its words as the image's title and label."""
    left, right = view.config.name, LABELS[view.status].lower()
    lw, rw = 10 + CHAR_WIDTH * len(left), 10 + CHAR_WIDTH * len(right)
    label = quoteattr(f"{left}: {right}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + rw}" height="20" role="img" '
        f"aria-label={label}><title>{escape(left)}: {escape(right)}</title>"
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{rw}" height="20" fill="{BADGE[view.status]}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="5" y="14">{escape(left)}</text>'
        f'<text x="{lw + 5}" y="14">{escape(right)}</text></g></svg>'
    )


def inputs_csv(found: Mapping[str, Inputs]) -> str:
    """One row per span that uptime reads: outages (an alert or a public incident) and
    maintenance (a window)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["component", "kind", "ref", "start", "end", "minutes"])
    for component, got in found.items():
        rows = [("outage", ref, span) for span, ref in got.outages]
        rows += [("maintenance", f"window {ref}", span) for span, ref in got.maintenance]
        for kind, ref, (start, end) in sorted(rows, key=lambda r: r[2]):
            minutes = round((end - start).total_seconds() / 60, 2)
            writer.writerow([component, kind, ref, stamp(start), stamp(end), minutes])
    return out.getvalue()
