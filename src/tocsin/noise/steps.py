"""The worker's noise step and the configuration seeds: mute firing alerts a silence,
window, known issue or inhibiting alert begins to match, flush due groups, look again at
muted alerts whose reason may have ended, warn creators of silences about to expire."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.config.model import TocsinConfig
from tocsin.noise import grouping, inhibition, known_issues, maintenance, rescreen, silences
from tocsin.noise.models import MaintenanceWindow, Silence
from tocsin.noise.screen import Dispatch, note_expiring, recheck_muted

# Seeded silences and windows get ids derived from their configured `id`, so each is written
# once however often the worker starts, and amtool still sees a UUID.
_SEED_IDS = uuid.UUID("0b6c2f55-8f0e-4a57-9d7a-6a3c1e5f2d90")


def seed_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_SEED_IDS, f"{kind}:{name}"))


def seed(session: Session, config: TocsinConfig, now: datetime) -> int:
    """Write the configuration's known issues, silences and maintenance windows; silences
    and windows already in the store (or already over) are left alone. Index the open
    alerts that could inhibit others, or be inhibited, under the configuration's rules
    (sources new to the index are due for the rescreen)."""
    inhibition.backfill(session, config.inhibit_rules, now)
    written = known_issues.seed(session, config.known_issues, now)
    for spec in config.silences:
        sid = seed_id("silence", spec.id)
        if spec.ends_at > now and session.get(Silence, sid) is None:
            silences.create_silence(
                session,
                spec.matchers,
                spec.starts_at,
                spec.ends_at,
                spec.created_by,
                spec.comment,
                now=now,
                every=spec.every,
                duration=spec.duration,
                timezone=spec.timezone,
                silence_id=sid,
            )
            written += 1
    for window in config.maintenance:
        wid = seed_id("maintenance", window.id)
        if window.ends_at > now and session.get(MaintenanceWindow, wid) is None:
            maintenance.create_window(
                session,
                window.title,
                window.services,
                window.starts_at,
                window.ends_at,
                window.created_by,
                now=now,
                description=window.description,
                every=window.every,
                duration=window.duration,
                timezone=window.timezone,
                window_id=wid,
            )
            written += 1
    return written


def run_due(
    session: Session,
    config: TocsinConfig,
    now: datetime,
    dispatch: Dispatch,
    people: silences.People | None = None,
    pause: rescreen.Pause | None = None,
) -> int:
    """One pass of everything noise control does on a timer; returns the work done.
    `people` (the pipeline's) reaches a silence's creator; without it the expiry notice
    goes to the console channels. `pause` (the pipeline's) stops the escalations of an
    alert muted while it fires."""
    done = rescreen.run_due(session, config, now, pause)
    done += grouping.flush_due_groups(session, now, config.grouping)
    done += recheck_muted(session, now, dispatch)
    for silence in silences.warn_expiring(session, now):
        note_expiring(session, silence, now)
        silences.tell_creator(session, config, silence, now, people)
        done += 1
    return done
