"""Running reports: the worker's step over due runs (claim, build outside any transaction,
then complete and post in one), and a run asked for by hand."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tocsin.checks.sources.base import Source
from tocsin.clock import Clock
from tocsin.config.model import TocsinConfig
from tocsin.db import session_scope
from tocsin.errors import Conflict, NotFound
from tocsin.reports import service
from tocsin.reports.build import Report, build, outcome
from tocsin.reports.post import draw, post
from tocsin.reports.render import markdown

log = logging.getLogger("tocsin.reports")

Sources = Callable[[str], Source]


def run_due(
    factory: sessionmaker[Session],
    config: TocsinConfig,
    clock: Clock,
    owner: str,
    lease: timedelta,
    sources: Sources,
) -> int:
    """Claim the due runs, build each as of its slot, then store and post it in one
    transaction that completes the run by compare-and-set: a run whose lease was lost (its
    worker stalled past the lease and another took over) writes nothing. Returns how many
    were claimed."""
    with session_scope(factory) as session:
        claims = service.claim_due(session, owner, clock.now(), lease)
        for claim in claims:
            if claim.report_name not in config.reports:
                service.release(session, claim)
    for claim in claims:
        spec = config.reports.get(claim.report_name)
        if spec is None:
            continue
        report = build(claim.report_name, spec, claim.slot_at, factory, sources, config.slos)
        drawn = draw(report) if spec.channels else []
        try:
            with session_scope(factory) as session:
                now = clock.now()
                posted = post(session, config, claim.report_name, report, claim.run_id, now, drawn)
                stored = outcome(report, markdown(report))
                service.complete(session, claim, stored, now, spec, posted)
        except Conflict as exc:
            log.warning("report %s: %s", claim.report_name, exc)
            continue
        log.info(
            "report %s for %s: %s (%d posts)",
            claim.report_name,
            claim.slot_at.isoformat(),
            report.status,
            posted,
        )
    return len(claims)


def run_now(
    factory: sessionmaker[Session],
    config: TocsinConfig,
    clock: Clock,
    name: str,
    at: datetime | None,
    sources: Sources,
    *,
    send: bool = False,
) -> tuple[Report, int]:
    """Run a report by hand as of `at` (default: now), store it, and post it when `send`;
    returns the report and its run's id."""
    spec = config.reports.get(name)
    if spec is None:
        known = ", ".join(sorted(config.reports)) or "none are configured"
        raise NotFound(f"report {name!r} does not exist (known: {known})")
    when = at or clock.now()
    report = build(name, spec, when, factory, sources, config.slos)
    drawn = draw(report) if send and spec.channels else []
    with session_scope(factory) as session:
        now = clock.now()
        stored = outcome(report, markdown(report))
        run_id = service.record_manual(session, name, when, stored, now)
        if send:
            posted = post(session, config, name, report, run_id, now, drawn)
            service.get(session, run_id).posted = posted
    return report, run_id
