"""The uptime cache: closed days computed by the hourly `status-uptime` job give the page the
same figures as computing them all from the store; the page reads them (and computes only the
days after the last one cached); another configuration of components is not served from
them; two workers on one PostgreSQL store fill the cache once per hour."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.support.race import collide, pair
from tests.support.status import declare, fire, post, resolve, status_config, window
from tests.support.store import truncate

from tocsin.clock import VirtualClock
from tocsin.db import make_engine, session_scope
from tocsin.statuspage import history
from tocsin.statuspage.models import StatusUptimeDay

DAY = timedelta(days=1)


def history_of(factory: sessionmaker[Session], clock: VirtualClock) -> None:
    """Outages on several past days and today, a maintenance and a public incident."""
    now = clock.now()
    for days_ago, hours in ((40, 3), (10, 1), (2, 30), (0, 1)):
        alert = fire(
            factory, now - days_ago * DAY, "CRITICAL", service="payments", key=str(days_ago)
        )
        resolve(factory, alert, now - days_ago * DAY + timedelta(hours=hours))
    fire(factory, now - timedelta(hours=5), "HIGH", service="web")  # still open
    incident = declare(factory, now, services=("search",), ago=3 * DAY)
    post(factory, now - 3 * DAY + timedelta(hours=2), incident, "Fixed.", "resolved")
    window(factory, now - 5 * DAY, ["payments"], timedelta(0), timedelta(hours=2))


def test_cached_days_give_the_same_figures_and_are_read(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    history_of(factory, clock)
    config = status_config().status
    now = clock.now()
    with session_scope(factory) as s:
        live = history.per_component(s, config, now)
        assert history.cache_due(s, config, now, "a") == 4 * 89
        assert history.cache_due(s, config, now + timedelta(minutes=5), "b") == 0  # same hour
    with session_scope(factory) as s:
        served = history.per_component(s, config, now)
    assert served == live
    assert served["checkout"].days[-3].outage_s == 10 * 3600  # 2 days ago, to its midnight
    assert served["search"].days[-4].percent == "91.66%"  # the incident's 2 hours
    # The page reads the cache: a cached day changed in the store shows...
    ten_days_ago = (now - 10 * DAY).date()
    with session_scope(factory) as s:
        s.execute(
            update(StatusUptimeDay)
            .where(StatusUptimeDay.component == "checkout", StatusUptimeDay.day == ten_days_ago)
            .values(outage_s=7200)
        )
    with session_scope(factory) as s:
        changed = history.per_component(s, config, now)
        # ...but not to another configuration of components, computed from the store.
        other = status_config("    - {name: Status API, services: [api]}\n").status
        assert history.config_key(other) != history.config_key(config)
        fresh = history.per_component(s, other, now)
    assert changed["checkout"].days[-11].outage_s == 7200
    assert fresh["checkout"].days[-11].outage_s == 3600
    # Tomorrow, the closed day not cached yet (today's) is computed from the store.
    with session_scope(factory) as s:
        tomorrow = history.per_component(s, config, now + DAY)
        assert history.cache_due(s, config, now + DAY, "a") == 4 * 89
        cached_tomorrow = history.per_component(s, config, now + DAY)
    assert tomorrow["checkout"].days[-2].outage_s == 3600  # yesterday, from the store
    assert tomorrow["checkout"].days[-12].outage_s == 7200  # still the cache's
    assert cached_tomorrow["checkout"].days[-12].outage_s == 3600  # the refresh recomputed it
    assert cached_tomorrow["checkout"].days[-2].outage_s == 3600


def test_two_workers_fill_the_cache_once_per_hour(pg_database: str, clock: VirtualClock) -> None:
    engine = make_engine(pg_database)
    truncate(engine)
    engine.dispose()
    config = status_config().status
    now = clock.now()
    with pair(pg_database) as two:
        history_of(two.b, clock)

        def run(factory: sessionmaker[Session], owner: str) -> int:
            with session_scope(factory) as session:
                return history.cache_due(session, config, now, owner)

        won = collide(two, lambda: run(two.a, "a"), lambda: run(two.b, "b"), two.engines[1])
        with session_scope(two.b) as s:
            rows = s.scalar(select(func.count()).select_from(StatusUptimeDay))
            per_day = s.execute(
                select(StatusUptimeDay.component, StatusUptimeDay.day, func.count())
                .group_by(StatusUptimeDay.component, StatusUptimeDay.day)
                .having(func.count() > 1)
            ).all()
    assert won == (4 * 89, 0)
    assert rows == 4 * 89  # none lost
    assert per_day == []  # none twice


def test_the_worker_runs_the_job_as_a_step(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    from tocsin.worker.loop import Worker

    worker = Worker(
        status_config(), factory, clock, worker_id="a", console_write=lambda _l: None, threads=False
    )
    step = next(s for s in worker.steps if s.name == "status uptime cache")
    assert step.run(clock.now()) == 4 * 89
    assert step.run(clock.now()) == 0  # done for this hour
    assert step.run(clock.now() + timedelta(hours=1)) == 4 * 89
