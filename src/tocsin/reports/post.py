"""A finished report posted through the outbox: per channel, the Markdown split within that
service's limits (one notice row per part, written in the run's completing transaction so a
run posts once), the HTML page to email, the mention on the first part when CRITICAL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.config.model import TocsinConfig
from tocsin.notify import discord, slack
from tocsin.outbox import service as outbox
from tocsin.reports.build import Report
from tocsin.reports.render import Flavour, headline, markdown, render_html, split

# Characters of text one notice may carry, by channel type: Discord's embed description;
# Slack's section text, less room for the mention and for escaping (`&` becomes `&amp;`).
LIMITS = {"discord": discord.DESCRIPTION_MAX, "slack": slack.SECTION_TEXT_MAX - 100}
ONE_PART = 100_000  # email, webhooks, the console: the whole report in one notice
FLAVOURS: dict[str, Flavour] = {"slack": "slack"}


def parts_for(report: Report, kind: str) -> list[str]:
    """The report's text in the parts one channel type takes."""
    flavour = FLAVOURS.get(kind, "markdown")
    text = markdown(report, flavour)
    limit = LIMITS.get(kind, ONE_PART)
    parts = split(text, limit)
    if kind == "slack":
        # Escaping lengthens text; shrink the parts until the escaped ones fit too.
        while any(len(slack.escape(p)) > LIMITS["slack"] for p in parts):
            limit -= 200
            parts = split(text, limit)
    return parts


def post(
    session: Session, config: TocsinConfig, name: str, report: Report, run_id: int, now: datetime
) -> int:
    """Write one outbox row per part per channel of the report; returns how many."""
    spec = config.reports[name]
    written = 0
    for channel in spec.channels:
        kind = config.channels[channel].type
        parts = parts_for(report, kind)
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
                payload["html"] = render_html(report)
            outbox.enqueue_one(session, (channel, None), payload, now)
            written += 1
    return written
