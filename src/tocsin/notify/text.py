"""Text helpers the channels share: cutting to a service's limits, links, numbers."""

from __future__ import annotations

from typing import Any


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in "…" when something was cut."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1] + "…"


def runbook_link(runbook: str, public_url: str) -> str:
    """A runbook is a URL or the slug of one of Tocsin's runbook pages."""
    if runbook.startswith(("http://", "https://")):
        return runbook
    return f"{public_url.rstrip('/')}/runbooks/{runbook}"


def ack_link(payload: dict[str, Any]) -> str | None:
    """The signed acknowledge link the pipeline put in the payload; only an alert still firing
    has anything to acknowledge."""
    url = payload.get("ack_url")
    if payload.get("state") != "firing" or not isinstance(url, str):
        return None
    return url


def format_value(value: float) -> str:
    """12.0 as "12", 0.25 as "0.25": what a person would write."""
    return str(int(value)) if float(value).is_integer() else str(value)
