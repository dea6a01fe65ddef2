"""What noise control does on a timer, and the configuration's seeds. Each due step claims
its rows and returns what the layer above must act on, so noise never calls back into the
pipeline: `rescreen.run_due` mutes firing alerts a silence, window, known issue or inhibiting
alert begins to match (their escalations are the pipeline's to pause), `grouping` flushes
due groups (to the channels routing chose when they were held), `mutes.recheck_muted` hands
back the held events of muted alerts whose reason may have ended, and `expiring` below
returns the silences about to end (their creators are the pipeline's to find)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.config.model import TocsinConfig
from tocsin.noise import inhibition, known_issues, maintenance, silences
from tocsin.noise.models import MaintenanceWindow, Silence
from tocsin.noise.mutes import note_expiring

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
                public=window.public,
            )
            written += 1
    return written


def expiring(session: Session, now: datetime) -> list[Silence]:
    """Silences about to end, each claimed once (`silences.warn_expiring`), with the notice
    on the timeline of every alert they mute."""
    warned = silences.warn_expiring(session, now)
    for silence in warned:
        note_expiring(session, silence, now)
    return warned
