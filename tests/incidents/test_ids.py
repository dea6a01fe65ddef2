"""Incident ids under concurrent declarations: unique and gap-free."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.support.incidents import incident_config
from tests.support.store import truncate

from tocsin.clock import VirtualClock
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.incidents import service as incidents
from tocsin.incidents.service import NewIncident
from tocsin.pipeline import Pipeline


def test_a_hundred_concurrent_declarations_get_a_hundred_gap_free_ids(
    pg_database: str, clock: VirtualClock
) -> None:
    engine = make_engine(pg_database, pool_size=20, max_overflow=0)
    truncate(engine)
    factory = make_sessionmaker(engine)
    pipeline = Pipeline(incident_config())
    start = threading.Barrier(20)

    def declare(n: int) -> str:
        if n < 20:
            start.wait()  # the first twenty begin at once
        with session_scope(factory) as s:
            new = NewIncident(title=f"incident {n}", severity="SEV-2")
            return incidents.declare(s, pipeline, new, "ana", clock.now()).id

    with ThreadPoolExecutor(20) as pool:
        ids = list(pool.map(declare, range(100)))
    engine.dispose()
    assert sorted(ids) == [f"INC-2026-11-17-{n:03d}" for n in range(1, 101)]
