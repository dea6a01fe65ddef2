"""The worker's alert-end and missed-heartbeat steps run once, without a worker: each in a
transaction of its own, as `Worker.steps` runs them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tocsin.db import session_scope
from tocsin.heartbeats import service as heartbeats
from tocsin.inbound import service as inbound
from tocsin.pipeline import Pipeline


def tick(factory: sessionmaker[Session], pipeline: Pipeline, now: datetime) -> int:
    """Resolve alerts whose sender-given end passed, raise missed heartbeats; how many."""
    with session_scope(factory) as session:
        done = inbound.resolve_expired(session, now, pipeline)
    beats = {beat.name: beat for beat in pipeline.config.heartbeats}
    with session_scope(factory) as session:
        done += heartbeats.raise_missed(session, beats, now, pipeline)
    return done
