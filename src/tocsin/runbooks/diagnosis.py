"""Diagnosis at alert time: the `"auto": true` blocks of a check's runbook run when its alert
is about to fire, and what they found goes into the alert's message, so the page itself says
"orders_last_15_min = 0, minutes_since_last = 12".

Why before the notification rather than as a follow-up message: the page is what the on-call
reads first, on a phone, and a follow-up arrives as a second page or not at all on channels
that group. The wait is bounded: every auto block together gets `runbooks.auto_timeout` (5 s
by default; each block's own timeout is cut to what is left), they are read-only (lint refuses
an auto write), and only alerts about to *open* are diagnosed (not every evaluation of one
already firing). A block that fails or runs out of time says so in one line; the alert fires
either way. The text is bounded too: MAX_LINE characters a block, MAX_TEXT in all.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tocsin.checks.evaluate import RowResult
from tocsin.config.checks import CheckConfig
from tocsin.config.model import TocsinConfig
from tocsin.errors import Invalid, NotFound
from tocsin.runbooks.params import environment, fill
from tocsin.runbooks.service import catalog
from tocsin.runbooks.steps import Plan, Result, execute, fits, info_of, refusal

log = logging.getLogger("tocsin.runbooks")
MAX_LINE = 300
MAX_TEXT = 1000


def annotate(
    config: TocsinConfig,
    check: CheckConfig,
    results: Sequence[RowResult],
    previous: Mapping[str, str],
    now: datetime,
    environ: Mapping[str, str] | None = None,
) -> list[RowResult]:
    """`results` with the diagnosis added to the message of each that is about to open an
    alert (a severity, and no alert open for its fingerprint in `previous`)."""
    opening = [r for r in results if r.severity and r.fingerprint not in previous]
    if not opening or not check.runbook:
        return list(results)
    labels = {**opening[0].labels, "check": check.name, "severity": str(opening[0].severity)}
    text = diagnose(config, check.runbook, labels, now, environ)
    if not text:
        return list(results)
    return [
        dataclasses.replace(r, message=f"{r.message}\n\n{text}".strip()) if r in opening else r
        for r in results
    ]


def diagnose(
    config: TocsinConfig,
    runbook_id: str,
    labels: Mapping[str, str],
    now: datetime,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Run the runbook's auto blocks within `runbooks.auto_timeout`; their findings as text
    ("" when the runbook has none, or is a URL rather than one of ours)."""
    try:
        runbook = catalog(config.runbooks.path).get(runbook_id)
    except NotFound:
        return ""
    blocks = [
        b
        for b in runbook.blocks
        if b.auto and b.mode == "read" and fits(b, config) and refusal(b, config) is None
    ]
    if not blocks:
        return ""
    budget = config.runbooks.auto_timeout.total_seconds()
    deadline = time.monotonic() + budget
    lines = []
    for block in blocks:
        left = deadline - time.monotonic()
        if left <= 0:
            lines.append(f"(diagnosis stopped: {budget:g}s spent)")
            break
        try:
            filled = fill(runbook, [block], {}, labels, now, "UTC", environment(environ))
        except Invalid as exc:
            lines.append(f"(not run: {exc})")
            continue
        plan = Plan(info_of(block), block.body, block.line, filled.values, filled.secrets)
        result = execute(plan, config, timeout=timedelta(seconds=left))
        lines.append(_line(result)[:MAX_LINE])
    text = f"Diagnosis ({runbook.id}):\n" + "\n".join(f"- {line}" for line in lines)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _line(result: Result) -> str:
    if result.state != "succeeded":
        return f"{result.state}: {result.error or ''}".strip()
    if result.rows:
        first = ", ".join(f"{k} = {_value(v)}" for k, v in result.rows[0].items())
        more = len(result.rows) - 1
        return first + (f" (+{more} more row{'s' if more > 1 else ''})" if more else "")
    if result.row_count is not None:
        return "no rows"
    text = result.output.decode("utf-8", "replace").strip().replace("\n", " ")
    return text or f"status {result.exit_status}"


def _value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
