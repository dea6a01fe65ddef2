"""How a stored run is shown, to the CLI, the API and the console alike."""

from __future__ import annotations

from typing import Any

from tocsin.reports.models import ReportRun


def run_summary(run: ReportRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "report": run.report_name,
        "trigger": run.trigger,
        "slot_at": run.slot_at,
        "finished_at": run.finished_at,
        "status": run.status,
        "posted": run.posted,
    }


def run_detail(run: ReportRun) -> dict[str, Any]:
    """A run as stored: its summary, the Markdown content, the figures and their hash."""
    return {
        **run_summary(run),
        "content": run.content,
        "figures": run.figures,
        "content_hash": run.content_hash,
    }
