"""Rot detection: every read-only step of every runbook run against the real sources, so a
runbook whose query names a dropped column is found on a quiet night, not during an outage.

`check_all` runs them (`tocsin runbook check`, and the worker's periodic job); each becomes a
`runbook_run` row (purpose `check`, no incident) run by the same claim-run-end path as any
step. Blocks that cannot run unattended are skipped, not failed: a parameter only an operator
can give (a prompt), a shell step while the shell is off, a block for another dialect. A
refused block (an unknown source) is rot. `check_due` is the worker's job: once per
`runbooks.check_every` slot across every instance (`tocsin.periodic`), then a WARNING alert
through the door while any step fails, resolved when none does.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tocsin import periodic
from tocsin.actions import alerts as alert_actions
from tocsin.actions.runbooks import queue, run_due, stored_params
from tocsin.alerts import service as alerts
from tocsin.alerts.service import NewAlert
from tocsin.clock import Clock
from tocsin.config.model import TocsinConfig
from tocsin.db import session_scope
from tocsin.egress import Transport
from tocsin.errors import Conflict, Invalid
from tocsin.fingerprint import fingerprint
from tocsin.pipeline import Pipeline
from tocsin.runbooks import runs
from tocsin.runbooks.blocks import Block
from tocsin.runbooks.models import RunbookRun
from tocsin.runbooks.params import environment, fill
from tocsin.runbooks.parse import Runbook
from tocsin.runbooks.service import catalog
from tocsin.runbooks.steps import fits, refusal

log = logging.getLogger("tocsin.runbooks")
JOB = "runbook-check"
ORIGIN = "runbook_check"


@dataclass(frozen=True)
class Checked:
    """One block's outcome: `succeeded`, `failed`, `timed_out`, `refused`, or `skipped`."""

    runbook: str
    path: str
    line: int
    kind: str
    state: str
    detail: str | None
    run_id: int | None = None

    @property
    def rotted(self) -> bool:
        return self.state not in ("succeeded", "skipped")


def check_all(
    factory: sessionmaker[Session],
    config: TocsinConfig,
    clock: Clock,
    owner: str,
    *,
    transport: Transport | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Checked]:
    """Run every read-only block of every runbook now; the outcome of each, in file order."""
    out: list[Checked] = []
    queued: dict[int, tuple[Runbook, Block]] = {}
    with session_scope(factory) as session:
        now = clock.now()
        for runbook in catalog(config.runbooks.path).runbooks:
            for block in runbook.blocks:
                if block.mode != "read" or not fits(block, config):
                    continue
                found = _queue(session, config, runbook, block, owner, now, environment(environ))
                if isinstance(found, Checked):
                    out.append(found)
                else:
                    queued[found.id] = (runbook, block)
    ids = list(queued)
    while run_due(factory, config, clock, owner, ids=ids, transport=transport, environ=environ):
        pass
    with session_scope(factory) as session:
        for run_id, (runbook, block) in queued.items():
            row = runs.get(session, run_id)
            detail = row.error if row.state != "succeeded" else _first_line(row.output)
            out.append(
                Checked(runbook.id, runbook.path, block.line, block.kind, row.state, detail, run_id)
            )
    return sorted(out, key=lambda c: (c.path, c.line))


def _queue(
    session: Session,
    config: TocsinConfig,
    runbook: Runbook,
    block: Block,
    owner: str,
    now: datetime,
    environ: Mapping[str, str],
) -> RunbookRun | Checked:
    def checked(state: str, detail: str) -> Checked:
        return Checked(runbook.id, runbook.path, block.line, block.kind, state, detail)

    why = refusal(block, config)
    if why is not None and block.kind == "sh":
        return checked("skipped", why)
    values = {}
    if why is None:
        try:
            values = fill(runbook, [block], {}, {}, now, "UTC", environ).values
        except Invalid as exc:
            return checked("skipped", f"needs an operator: {exc}")
    row = queue(
        session,
        runbook,
        block,
        stored_params(runbook, values, ()),
        why,
        owner,
        now,
        purpose="check",
    )
    return checked("refused", why) if why else row


def _first_line(text: str | None) -> str | None:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else None


def report(found: list[Checked]) -> str:
    """The failing blocks as `file:line: state: detail`, one a line."""
    return "\n".join(
        f"{c.path}:{c.line}: {c.kind} {c.state}: {c.detail or ''}".rstrip()
        for c in found
        if c.rotted
    )


def raise_or_clear(
    session: Session, pipeline: Pipeline, found: list[Checked], now: datetime
) -> int | None:
    """A WARNING alert while any block fails (its message lists them), resolved once none
    does. Returns the open alert's id, if any."""
    fp = fingerprint("tocsin:runbook-check", {})
    rotted = [c for c in found if c.rotted]
    current = alerts.open_by_fingerprint(session, fp)
    if not rotted:
        if current is not None:
            with contextlib.suppress(Conflict):
                alert_actions.resolve(session, pipeline, current.id, None, now, "every step ran")
        return None
    if current is not None:
        return current.id
    books = sorted({c.runbook for c in rotted})
    change = alert_actions.fire(
        session,
        pipeline,
        NewAlert(
            fingerprint=fp,
            origin=ORIGIN,
            labels={"service": "tocsin", "check": "runbook_check"},
            severity="WARNING",
            title=f"{len(rotted)} runbook step(s) no longer run: {', '.join(books)}"[:300],
            message=report(found)[:4000],
        ),
        now,
    )
    return change[0].id


def check_due(
    factory: sessionmaker[Session],
    config: TocsinConfig,
    pipeline: Pipeline,
    clock: Clock,
    owner: str,
    since: datetime,
) -> int:
    """The worker's periodic job: once per `check_every` slot (midnight UTC by default), by
    one instance, for slots that began after `since` (the worker's start: starting a worker
    does not run every runbook). How many blocks it checked (0 when the slot was done, held
    elsewhere, or not yet due)."""
    every = config.runbooks.check_every
    if every <= timedelta(0) or not config.runbooks.path.is_dir():
        return 0
    now = clock.now()
    slot = periodic.slot_at(now, every)
    if slot <= since:
        return 0
    lease = config.runbooks.step_timeout * 20 + config.worker.lease
    with session_scope(factory) as session:
        if not periodic.claim(session, JOB, slot, owner, now, lease):
            return 0
    found = check_all(factory, config, clock, owner)
    with session_scope(factory) as session:
        if periodic.finish(session, JOB, slot, owner, clock.now()):
            raise_or_clear(session, pipeline, found, clock.now())
    rotted = [c for c in found if c.rotted]
    if rotted:
        log.warning("runbook check: %d step(s) fail:\n%s", len(rotted), report(found))
    return len(found)
