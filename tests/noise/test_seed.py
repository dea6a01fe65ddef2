"""Silences, maintenance windows and known issues declared in the configuration are written
to the store when the worker starts, once, and keep their counts across restarts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import Desk, noise_config

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.noise.models import KnownIssue, MaintenanceWindow, Silence
from tocsin.noise.steps import seed_id
from tocsin.worker.loop import Worker

SEEDS = """
known_issues:
  - {id: PRINT-1, matchers: ['service="printful_api"'], expires_at: 2026-11-17T15:00:00Z,
     reason: Printful degraded}
silences:
  - {id: backup, matchers: ['check="backup"'], starts_at: 2026-11-17T13:00:00Z,
     ends_at: 2026-11-17T16:00:00Z, comment: backup window}
  - {id: over, matchers: ['check="x"'], starts_at: 2026-11-16T13:00:00Z,
     ends_at: 2026-11-16T16:00:00Z, comment: already over}
maintenance:
  - {id: migration, title: DB migration, services: [payments], starts_at: 2026-11-17T13:00:00Z,
     ends_at: 2026-11-17T16:00:00Z}
"""


def test_seeds_are_written_once_and_counts_survive_a_restart(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = noise_config(SEEDS)
    for round_ in range(2):
        worker = Worker(config, factory, clock, console_write=[].append, threads=False)
        worker.start()
        worker.tick()
        worker.stop()
        Desk(factory, clock, config).fire("provider", {"service": "printful_api", "n": str(round_)})
    with session_scope(factory) as s:
        assert [x.id for x in s.scalars(select(Silence))] == [seed_id("silence", "backup")]
        assert [x.id for x in s.scalars(select(MaintenanceWindow))] == [
            seed_id("maintenance", "migration")
        ]
        (issue,) = s.scalars(select(KnownIssue)).all()
        assert (issue.origin, issue.suppressed_count) == ("config", 2)
