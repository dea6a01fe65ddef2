"""The worker's step for inbound alerts: resolve those whose sender-given end passed, and
raise the alert of every heartbeat that missed its ping. Each is its own transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tocsin.db import session_scope
from tocsin.heartbeats import service as heartbeats
from tocsin.inbound import service as inbound
from tocsin.pipeline import Pipeline


def tick(factory: sessionmaker[Session], pipeline: Pipeline, now: datetime) -> int:
    """Run both timers once; return how many alerts changed (0 means idle)."""
    with session_scope(factory) as session:
        done = inbound.resolve_expired(session, now, pipeline)
    beats = {beat.name: beat for beat in pipeline.config.heartbeats}
    with session_scope(factory) as session:
        done += heartbeats.raise_missed(session, beats, now, pipeline)
    return done
