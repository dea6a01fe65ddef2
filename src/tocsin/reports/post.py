"""A finished report posted through the outbox: per channel, the Markdown split within that
service's limits (one notice row per part, written in the run's completing transaction so a
run posts once), the HTML page to email, the mention on the first part when CRITICAL."""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.config.model import TocsinConfig
from tocsin.notify import discord, slack
from tocsin.outbox import service as outbox
from tocsin.reports.build import Report
from tocsin.reports.charts import Chart, charts_of
from tocsin.reports.render import Flavour, headline, markdown, render_html, split

# Characters of text one notice may carry, by channel type: Discord's embed description;
# Slack's section text, less room for the mention and for escaping (`&` becomes `&amp;`).
LIMITS = {"discord": discord.DESCRIPTION_MAX, "slack": slack.SECTION_TEXT_MAX - 100}
ONE_PART = 100_000  # email, webhooks, the console: the whole report in one notice
FLAVOURS: dict[str, Flavour] = {"slack": "slack"}


def chart_link(url: str, flavour: Flavour) -> str:
    if flavour == "slack":
        return f"📈 <{url}|Charts of this run>"
    return f"📈 [Charts of this run]({url})"


def parts_for(report: Report, kind: str, link: str | None = None) -> list[str]:
    """The report's text in the parts one channel type takes; `link`, the run's page with
    its charts, ends the last part (chat webhooks take no files)."""
    flavour = FLAVOURS.get(kind, "markdown")
    text = markdown(report, flavour)
    if link is not None:
        text = text.rstrip("\n") + "\n\n" + chart_link(link, flavour) + "\n"
    limit = LIMITS.get(kind, ONE_PART)
    parts = split(text, limit)
    if kind == "slack":
        # Escaping lengthens text; shrink the parts until the escaped ones fit too.
        while any(len(slack.escape(p)) > LIMITS["slack"] for p in parts):
            limit -= 200
            parts = split(text, limit)
    return parts


def draw(report: Report) -> list[tuple[Chart, bytes]]:
    """The report's charts as PNG, drawn before the posting transaction opens."""
    return [(chart, chart.draw("png")) for chart in charts_of([asdict(s) for s in report.sections])]


def post(
    session: Session,
    config: TocsinConfig,
    name: str,
    report: Report,
    run_id: int,
    now: datetime,
    drawn: list[tuple[Chart, bytes]] | None = None,
) -> int:
    """Write one outbox row per part per channel of the report; returns how many. Email
    carries the `drawn` charts as images in its HTML; chat links the run's page."""
    spec = config.reports[name]
    written = 0
    drawn = drawn or []
    link = f"{config.public_url.rstrip('/')}/reports/runs/{run_id}" if drawn else None
    cids = [f"{chart.slug}.{run_id}@tocsin" for chart, _ in drawn]
    images: dict[int, list[tuple[str, str]]] = {}
    for (chart, _), cid in zip(drawn, cids, strict=True):
        images.setdefault(chart.section, []).append((cid, chart.title))
    for channel in spec.channels:
        kind = config.channels[channel].type
        parts = parts_for(report, kind, None if kind == "email" else link)
        for i, text in enumerate(parts, start=1):
            title = headline(report) + (f" ({i}/{len(parts)})" if len(parts) > 1 else "")
            payload: dict[str, Any] = {
                "version": 1,
                "event": "report",
                "alert_id": None,
                "at": report.at.isoformat(),
                "title": title,
                "message": text,
                "report": name,
                "run_id": run_id,
                "status": report.status,
                "part": i,
                "parts": len(parts),
            }
            mention = spec.mention_for(channel)
            if i == 1 and mention and report.level == "CRITICAL":
                payload["mention"] = mention
            if kind == "email":
                payload["html"] = render_html(report, images)
                payload["images"] = [
                    {"cid": cid, "png": base64.b64encode(png).decode()}
                    for (_, png), cid in zip(drawn, cids, strict=True)
                ]
            outbox.enqueue_one(session, (channel, None), payload, now)
            written += 1
    return written
