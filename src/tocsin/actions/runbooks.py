"""The door for runbook steps: asking for runs (checked before anything is written), the
commander's approval of a write, the worker's step over queued runs, and what an ended run
writes on the incident's timeline (kind `runbook_step`, in the transaction that ends it).

Running is claim, commit, run, record (the sender's shape): a step never runs inside a
transaction, and a run whose worker died mid-step is taken over when its lease runs out —
run again if it reads, ended as failed if it writes (it may have written already; a person
decides whether to ask for it again).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.models import Alert
from tocsin.clock import Clock
from tocsin.config.model import TocsinConfig
from tocsin.db import read_scope, session_scope
from tocsin.egress import Transport
from tocsin.errors import Conflict, Invalid
from tocsin.incidents import service as incidents
from tocsin.incidents import timeline
from tocsin.incidents.models import IncidentAlert, IncidentEvent
from tocsin.runbooks import runs
from tocsin.runbooks.blocks import Block
from tocsin.runbooks.models import RunbookRun
from tocsin.runbooks.params import environment, fill
from tocsin.runbooks.parse import Runbook
from tocsin.runbooks.steps import Plan, capture, execute, fits, info_of, refusal

log = logging.getLogger("tocsin.runbooks")
EXCERPT = 2000  # characters of the output in a timeline event's note


@dataclass(frozen=True)
class Selection:
    """Which blocks to run: one resolution step, every step, or the verification list."""

    step: int | None = None
    verification: bool = False

    def blocks(self, runbook: Runbook) -> list[Block]:
        if self.verification:
            found = [b for item in runbook.verification for b in item.blocks]
            if not found:
                raise Invalid(f"{runbook.path}: Verification Steps have no executable block")
            return found
        if self.step is None:
            return [b for step in runbook.steps for b in step.blocks]
        step = runbook.step(self.step)
        if step is None:
            numbers = ", ".join(str(s.number) for s in runbook.steps) or "none"
            raise Invalid(f"runbook {runbook.id!r} has no step {self.step} (steps: {numbers})")
        if not step.blocks:
            raise Invalid(f"{runbook.path}:{step.line}: step {step.number} has nothing to run")
        return list(step.blocks)


def labels_of(session: Session, incident_id: str) -> dict[str, str]:
    """The parameters an incident gives: its linked alerts' labels (the newest alert's win),
    its first service, and its id."""
    incident = incidents.get(session, incident_id)
    found: dict[str, str] = {}
    rows = session.scalars(
        select(Alert)
        .join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
        .where(IncidentAlert.incident_id == incident_id)
        .order_by(Alert.id)
    )
    for alert in rows:
        found.update({k.lower(): v for k, v in alert.labels.items()})
        found.setdefault("severity", alert.severity)
        if alert.check_name:
            found.setdefault("check", alert.check_name)
    if incident.services:
        found.setdefault("service", incident.services[0])
    found["incident"] = incident.id
    return found


def request(
    session: Session,
    config: TocsinConfig,
    runbook: Runbook,
    selection: Selection,
    *,
    incident_id: str,
    given: Mapping[str, str],
    by: str,
    now: datetime,
    environ: Mapping[str, str] | None = None,
) -> list[RunbookRun]:
    """Ask for runs of the selected blocks for an incident. Invalid, and nothing written,
    when the selection is empty or a parameter is unfilled or unsafe. A block that may not
    run is written `refused` (and says why on the timeline); a write waits, queued, for the
    commander's approval; the rest are queued for the worker."""
    incident = incidents.get(session, incident_id)
    blocks = [b for b in selection.blocks(runbook) if fits(b, config)]
    refused = {b.line: why for b in blocks if (why := refusal(b, config)) is not None}
    # Only what will run needs its parameters: a refused shell step asks for no API key.
    filled = fill(
        runbook,
        [b for b in blocks if b.line not in refused],
        given,
        labels_of(session, incident.id),
        now,
        "UTC",
        environment(environ),
    )
    rows = []
    for block in blocks:
        why = refused.get(block.line)
        values = {} if why else {use.name: filled.values[use.name] for use in block.params}
        row = queue(
            session,
            runbook,
            block,
            stored_params(runbook, values, filled.secrets),
            why,
            by,
            now,
            purpose="step",
            incident_id=incident.id,
        )
        if why:
            _event(session, row, now, f"refused: {why}")
        elif block.mode == "write":
            who = incident.commander or "no commander yet: assign one"
            _event(session, row, now, f"writes: waits for the commander's approval ({who})")
        rows.append(row)
    return rows


def queue(
    session: Session,
    runbook: Runbook,
    block: Block,
    params: dict[str, Any],
    why: str | None,
    by: str,
    now: datetime,
    *,
    purpose: str,
    incident_id: str | None = None,
) -> RunbookRun:
    """One run of `block` written (flushed): queued for the worker, or refused at once with
    `why` (ended then, never claimed)."""
    row = RunbookRun(
        runbook_id=runbook.id,
        incident_id=incident_id,
        purpose=purpose,
        step=block.step,
        line=block.line,
        kind=block.kind,
        info=info_of(block),
        body=block.body,
        mode=block.mode,
        source=block.source,
        params=params,
        state="refused" if why else "queued",
        requested_by=by,
        requested_at=now,
        attempts=0,
        truncated=False,
        error=why,
        finished_at=now if why else None,
        tests=[],
    )
    session.add(row)
    session.flush()
    return row


def stored_params(
    runbook: Runbook, values: Mapping[str, Any], secrets: Sequence[str]
) -> dict[str, Any]:
    """Parameters as a row keeps them: times as ISO text, a value from the environment as
    the variable's name only (it is read again when the step runs: a secret is never stored)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        spec = runbook.meta.param(name) if runbook.meta else None
        if spec is not None and spec.env and isinstance(value, str) and value in secrets:
            out[name] = {"env": spec.env}
        else:
            out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def approve(session: Session, run_id: int, by: str, now: datetime) -> RunbookRun:
    """The incident commander approves a write step; Conflict when `by` is not the commander,
    there is none, or the run is not a write waiting for approval."""
    row = runs.get(session, run_id)
    if row.incident_id is None:
        raise Conflict(f"runbook run {run_id} belongs to no incident")
    incident = incidents.get(session, row.incident_id, lock=True)
    if incident.commander is None:
        raise Conflict(f"{incident.id} has no commander: assign one to approve writes")
    if by != incident.commander:
        raise Conflict(f"only {incident.id}'s commander ({incident.commander}) may approve")
    runs.approve(session, row, by, now)
    _event(session, row, now, f"approved by {by}", actor=by)
    return row


# --- running -----------------------------------------------------------------------------


def lease_for(row: RunbookRun, config: TocsinConfig) -> timedelta:
    """A lease that outlives the step's own timeout, so it needs no renewal while it runs."""
    block, _ = _block(row)
    limit = block.timeout if block and block.timeout else config.runbooks.step_timeout
    return limit + config.worker.lease


def _block(row: RunbookRun) -> tuple[Block | None, Plan]:
    plan = Plan(row.info, row.body, row.line, _values(row))
    try:
        return plan.block(), plan
    except Invalid:
        return None, plan


def _values(row: RunbookRun) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.params.items():
        out[name] = value
        if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
            with contextlib.suppress(ValueError):
                out[name] = datetime.fromisoformat(value)
    return out


def run_due(
    factory: sessionmaker[Session],
    config: TocsinConfig,
    clock: Clock,
    owner: str,
    *,
    ids: Sequence[int] | None = None,
    transport: Transport | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[RunbookRun]:
    """The worker's step (and `tocsin runbook exec`, on its own runs): claim due runs, run
    each outside any transaction, end each with its timeline event in one. Returns the runs
    ended by this call."""
    with read_scope(factory) as session:
        # Most ticks find nothing due: a read, so that on SQLite no tick takes the writer.
        if not runs.any_due(session, clock.now(), ids):
            return []
    with session_scope(factory) as session:
        now = clock.now()
        taken = runs.claim_due(session, owner, now, lambda r: lease_for(r, config), ids=ids)
        rows = {claim.run_id: runs.get(session, claim.run_id) for claim in taken}
        for row in rows.values():
            session.refresh(row)  # the claim's UPDATE left the loaded rows as they were read
        ended = []
        for claim in taken:
            row = rows[claim.run_id]
            if claim.attempts > 1 and claim.mode == "write":
                # Its worker died mid-step: it may have written. Never written twice unasked.
                error = "interrupted: the worker running it stopped; a write is not run again"
                runs.end_unrun(session, row, "failed", error, now)
                _event(session, row, now, error)
                ended.append(row)
        done = {r.id for r in ended}
        plans = {c.run_id: _plan(rows[c.run_id], environ) for c in taken if c.run_id not in done}
    for claim in taken:
        if claim.run_id in done:
            continue
        plan = plans[claim.run_id]
        result = execute(plan, config, transport=transport)
        captured = capture(result, plan.secrets)
        try:
            with session_scope(factory) as session:
                row = runs.finish(session, claim, result, captured, clock.now())
                _event(session, row, row.finished_at or clock.now(), _summary(row))
                ended.append(row)
        except Conflict as exc:
            log.warning("%s", exc)
    return ended


def _plan(row: RunbookRun, environ: Mapping[str, str] | None) -> Plan:
    """The row's block and values; a secret parameter is read from the environment again."""
    values = _values(row)
    secrets = []
    env = environment(environ)
    for name, value in list(values.items()):
        if isinstance(value, dict):
            values[name] = env.get(str(value.get("env")), "")
            secrets.append(values[name])
    return Plan(row.info, row.body, row.line, values, tuple(secrets))


def _summary(row: RunbookRun) -> str:
    what = f"{row.kind}" + (f" on {row.source}" if row.source else "")
    parts = [f"{row.state}"]
    if row.row_count is not None:
        parts.append(f"{row.row_count} row{'s' if row.row_count != 1 else ''}")
    if row.exit_status is not None:
        parts.append(f"status {row.exit_status}")
    if row.duration_ms is not None:
        parts.append(f"{row.duration_ms} ms")
    head = f"{what}: {', '.join(parts)}"
    if row.error:
        head += f" — {row.error}"
    excerpt = (row.output or "")[:EXCERPT]
    return f"{head}\n{excerpt}".rstrip()


def _event(
    session: Session, row: RunbookRun, at: datetime, note: str, *, actor: str | None = None
) -> None:
    if row.incident_id is None:
        return
    step = f"step {row.step}" if row.step is not None else f"line {row.line}"
    timeline.append(
        session,
        row.incident_id,
        "runbook_step",
        at,
        actor=actor or row.requested_by,
        note=f"{row.runbook_id} {step}: {note}",
        data=event_data(row),
    )


def event_data(row: RunbookRun) -> dict[str, Any]:
    return {
        "run_id": row.id,
        "runbook": row.runbook_id,
        "step": row.step,
        "line": row.line,
        "kind": row.kind,
        "source": row.source,
        "mode": row.mode,
        "state": row.state,
        "exit_status": row.exit_status,
        "row_count": row.row_count,
        "duration_ms": row.duration_ms,
        "output": row.output,
        "output_bytes": row.output_bytes,
        "output_sha256": row.output_sha256,
        "truncated": row.truncated,
        "error": row.error,
        "tests": row.tests,
        "approved_by": row.approved_by,
    }


# --- the verification checklist -------------------------------------------------------------


def tick(
    session: Session, runbook: Runbook, incident_id: str, item: int, by: str, now: datetime
) -> str:
    """A person ticks item `item` (from 1) of the Verification Steps for an incident: a
    `runbook_step` event on its timeline. Returns the item's text."""
    incidents.get(session, incident_id)
    items = runbook.verification
    if not 1 <= item <= len(items):
        raise Invalid(f"item: runbook {runbook.id!r} has verification items 1-{len(items)}")
    text = items[item - 1].text
    timeline.append(
        session,
        incident_id,
        "runbook_step",
        now,
        actor=by,
        note=f"{runbook.id}: checked “{text}”",
        data={"runbook": runbook.id, "checklist_item": item, "text": text},
    )
    return text


def ticked(session: Session, incident_id: str, runbook_id: str) -> dict[int, str]:
    """The verification items people ticked for an incident, with who ticked each."""
    rows = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "runbook_step")
        .order_by(IncidentEvent.id)
    )
    return {
        int(e.data["checklist_item"]): e.actor or "?"
        for e in rows
        if e.data.get("runbook") == runbook_id and "checklist_item" in e.data
    }
