"""The shipped reports over 90 days of history: how long each takes to build and render.

What it measures: a storefront database (reference 000's shop, generated with 90 days of
history) and a Tocsin store holding 90 days of the storefront checks' history —
`--evaluations` evaluations (default 1,000,000, spread evenly over the five checks and the
90 days, each with one stored value), 2,000 resolved alerts (acknowledged, some linked to
nothing) and the SLOs of `storefront.yaml`. Then, as of the end of the 90 days, each shipped
report (`daily`, `weekly`, `monthly`) is built (its SQL on the shop, Tocsin's figures and
SLOs on the store), rendered as Markdown and HTML, and its charts drawn as PNG; and each SLO
is read on its own (`tocsin slo show`). Each is run `--repeat` times (default 3) and the
best and median are printed, in seconds.

Target (issue 19): the monthly review in under 10 s on SQLite and on PostgreSQL; an SLO's
budget is read from the alert indexes (availability) or one range of the (check_name, at)
index of stored values (latency), never by scanning every evaluation.

Run: `.venv/bin/python bench/reports.py [--store sqlite|postgresql|both] [--evaluations N]
[--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]`. The 1-minute load average is
printed: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from importlib import resources
from pathlib import Path

if __package__ in (None, ""):  # `python bench/x.py` puts bench/ on the path, not the root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.models import Alert
from tocsin.checks.models import CheckSample, Evaluation
from tocsin.checks.sources import open_source
from tocsin.config import TocsinConfig, parse
from tocsin.db import make_engine, make_sessionmaker, read_scope, session_scope
from tocsin.demo.scenario import Scenario
from tocsin.demo.storefront import DEFAULT_START, create_storefront
from tocsin.fingerprint import fingerprint
from tocsin.reports import slos
from tocsin.reports.build import build
from tocsin.reports.post import draw
from tocsin.reports.render import markdown, render_html
from tocsin.store import upgrade

DAYS = 90
ALERTS = 2000
CHUNK = 20_000
# The end of the history: the storefront's bad morning is behind, the month well begun.
AT = DEFAULT_START + timedelta(hours=6)


def config_for(shop_url: str) -> TocsinConfig:
    text_ = resources.files("tocsin.examples").joinpath("storefront.yaml").read_text("utf-8")
    config, _ = parse(text_, "storefront.yaml", env={"SHOP_DATABASE_URL": shop_url})
    return config


def seed(factory: sessionmaker[Session], config: TocsinConfig, evaluations: int) -> None:
    """`evaluations` evaluations with a value each, and ALERTS resolved alerts, over DAYS."""
    rng = random.Random(19)
    checks = [c.name for c in config.checks]
    span = timedelta(days=DAYS).total_seconds()
    step = span / max(evaluations // len(checks), 1)
    made = 0
    while made < evaluations:
        rows = []
        for i in range(made, min(made + CHUNK, evaluations)):
            name = checks[i % len(checks)]
            at = AT - timedelta(seconds=span - (i // len(checks)) * step)
            rows.append(
                {
                    "check_name": name,
                    "slot_at": at,
                    "started_at": at,
                    "finished_at": at,
                    "duration_ms": 3.0,
                    "status": "ok",
                    "results": [],
                }
            )
        with session_scope(factory) as s:
            ids = s.execute(insert(Evaluation).returning(Evaluation.id), rows).scalars().all()
            s.execute(
                insert(CheckSample),
                [
                    {
                        "check_name": row["check_name"],
                        "fingerprint": "0" * 32,
                        "at": row["slot_at"],
                        "value": rng.lognormvariate(7.0, 0.5),  # ~1,100 ms, a long tail
                        "evaluation_id": evaluation_id,
                    }
                    for row, evaluation_id in zip(rows, ids, strict=True)
                ],
            )
        made += len(rows)
    alerts = []
    for i in range(ALERTS):
        name = checks[i % len(checks)]
        start = AT - timedelta(seconds=rng.uniform(3600, span))
        acked = start + timedelta(minutes=rng.expovariate(1 / 6))
        alerts.append(
            {
                "fingerprint": fingerprint(name, {"n": str(i)}),
                "origin": "check",
                "check_name": name,
                "labels": {"service": config.check(name).labels.get("service", "")},
                "severity": rng.choice(["CRITICAL", "HIGH", "WARNING", "WARNING"]),
                "state": "resolved",
                "title": f"{name} {i}",
                "message": "",
                "started_at": start,
                "updated_at": start,
                "acknowledged_at": acked if i % 3 else None,
                "acknowledged_by": "ana" if i % 3 else None,
                "resolved_at": acked + timedelta(minutes=rng.expovariate(1 / 20)),
            }
        )
    with session_scope(factory) as s:
        s.execute(insert(Alert), alerts)


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - began)
    return min(seconds), statistics.median(seconds)


def fresh_postgresql(url: str) -> str:
    """A new database `tocsin_bench_reports` on the server of `url`."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS tocsin_bench_reports"))
        conn.execute(text("CREATE DATABASE tocsin_bench_reports"))
    admin.dispose()
    return make_url(url).set(database="tocsin_bench_reports").render_as_string(hide_password=False)


def bench(kind: str, store_url: str, shop_url: str, evaluations: int, repeat: int) -> None:
    engine = make_engine(store_url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    config = config_for(shop_url)
    began = time.perf_counter()
    seed(factory, config, evaluations)
    print(
        f"{kind}: seeded {evaluations:,} evaluations and {ALERTS:,} alerts over {DAYS} days "
        f"in {time.perf_counter() - began:.1f} s"
    )
    source = open_source(config.sources["shop"])
    try:
        for name, spec in config.reports.items():

            def run(name: str = name, spec: object = spec) -> None:
                report = build(
                    name, config.reports[name], AT, factory, lambda _: source, config.slos
                )
                markdown(report)
                render_html(report)
                draw(report)

            best, median = timed(run, repeat)
            print(f"{kind}: report {name}: best {best:.3f} s, median {median:.3f} s")
        for name, slo in config.slos.items():

            def read(name: str = name) -> None:
                with read_scope(factory) as s:
                    slos.read(s, name, config.slos[name], AT)

            best, median = timed(read, repeat)
            print(f"{kind}: slo {name} ({slo.sli.type}): best {best:.3f} s, median {median:.3f} s")
    finally:
        source.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--evaluations", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-reports-") as tmp:
        shop_url = f"sqlite:///{Path(tmp) / 'shop.db'}"
        began = time.perf_counter()
        create_storefront(shop_url, DEFAULT_START, Scenario(history_days=DAYS))
        print(f"storefront with {DAYS} days of history in {time.perf_counter() - began:.1f} s")
        if args.store in ("sqlite", "both"):
            store_url = f"sqlite:///{Path(tmp) / 'tocsin.db'}"
            bench("sqlite", store_url, shop_url, args.evaluations, args.repeat)
        if args.store in ("postgresql", "both"):
            bench("postgresql", fresh_postgresql(args.url), shop_url, args.evaluations, args.repeat)
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
