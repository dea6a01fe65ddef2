"""The one rule for an alert's title, whoever raises it (a check, Alertmanager's API or
webhook, PagerDuty, a plain event): at most `TITLE_MAX` characters. A longer title is cut to
end in "…", never refused, and its full text is kept in the message."""

from __future__ import annotations

TITLE_MAX = 300  # the column's size (alert.title)
ELLIPSIS = "…"


def fit(title: str, message: str) -> tuple[str, str]:
    """`(title, message)` as stored: a title over `TITLE_MAX` cut to end in "…", and then the
    full title leads the message unless the message already holds it."""
    if len(title) <= TITLE_MAX:
        return title, message
    short = title[: TITLE_MAX - len(ELLIPSIS)] + ELLIPSIS
    if title in message:
        return short, message
    return short, f"{title}\n\n{message}" if message else title
