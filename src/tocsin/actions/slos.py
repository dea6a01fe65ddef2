"""Burn-rate alerts: once a minute across every instance (a `periodic` slot), each SLO's
pairs are read, and its `page` (CRITICAL) and `ticket` (WARNING) alerts opened or resolved
through the one door, so they route, group and escalate like any alert."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tocsin import periodic
from tocsin.actions import alerts as door
from tocsin.alerts import service as alerts
from tocsin.alerts.service import NewAlert
from tocsin.config.slos import SloConfig
from tocsin.errors import Conflict
from tocsin.fingerprint import fingerprint
from tocsin.pipeline import Pipeline
from tocsin.reports import slos
from tocsin.reports.slos import Reading

log = logging.getLogger("tocsin.slos")

JOB = "slo-burn"
EVERY = timedelta(minutes=1)
SEVERITY = {"page": "CRITICAL", "ticket": "WARNING"}


def alert_fingerprint(name: str, tier: str) -> str:
    return fingerprint("tocsin:slo", {"slo": name, "burn": tier})


def _message(reading: Reading, tier: str) -> str:
    lines = [
        f"{reading.name} ({reading.objective:g} % over {reading.window}): "
        f"{100 * reading.budget_remaining:.1f} % of the error budget left ({reading.status})."
    ]
    for burn in reading.burns:
        if burn.tier == tier:
            mark = "burning" if burn.burning else "ok"
            lines.append(
                f"{burn.long}/{burn.short} at {burn.factor:g}x: {burn.long_rate:.1f}x / "
                f"{burn.short_rate:.1f}x ({mark})"
            )
    return "\n".join(lines)


def check_burn(
    session: Session,
    pipeline: Pipeline,
    configured: Mapping[str, SloConfig],
    now: datetime,
    owner: str = "",
) -> int:
    """Open or resolve the burn-rate alerts of every SLO, once per minute slot across
    instances (the slot is marked done in this transaction); returns the alerts changed."""
    watched = {name: slo for name, slo in configured.items() if slo.burn_alerts}
    if not watched or not periodic.once(session, JOB, periodic.slot_at(now, EVERY), now, owner):
        return 0
    changed = 0
    for name, slo in sorted(watched.items()):
        reading = slos.read(session, name, slo, now)
        for tier, burning in reading.tiers.items():
            fp = alert_fingerprint(name, tier)
            open_alert = alerts.open_by_fingerprint(session, fp)
            if burning and open_alert is None:
                new = NewAlert(
                    fingerprint=fp,
                    origin=slos.ORIGIN,
                    labels={**slo.labels, "service": slo.service, "slo": name, "burn": tier},
                    severity=SEVERITY[tier],
                    title=f"SLO {name} is burning its error budget too fast ({tier})",
                    message=_message(reading, tier),
                    source=name,
                )
                try:
                    door.fire(session, pipeline, new, now)
                except Conflict:
                    continue
                changed += 1
            elif not burning and open_alert is not None:
                door.resolve(session, pipeline, open_alert.id, None, now, "burn rate back under")
                changed += 1
    return changed
