"""CPU to parse inbound bodies into `Inbound` events, in process (no HTTP, no store).

What it measures, per format, µs per body and per alert (median and best of `--runs` runs,
each the mean of `--repeat` parses, with the load average):

- alertmanager v2 re-sent: one batch of 64 alerts (bench/ingest.py's: 7 labels, 3
  annotations, about 570 bytes each) parsed again and again, Prometheus's every-cycle path;
- alertmanager v2 new: 200 batches of 64 alerts never seen before (12,800 label sets, more
  than the parser remembers), one after the other;
- alertmanager webhook: the same 64 alerts as one webhook (version 4) payload;
- plain events: 64 events with the same labels, a title, a message and details;
- pagerduty: one trigger event (`parse` then `to_inbound`).

Run: `.venv/bin/python bench/parse.py [--runs 9] [--repeat 200]`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tocsin.inbound import alertmanager, events, pagerduty

if __package__ in (None, ""):  # `python bench/x.py` puts bench/ on the path, not the root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import BATCH, alert, batches_of


def timed(parse: Callable[[], object], repeat: int) -> float:
    """Mean µs of one call over `repeat` calls."""
    started = time.perf_counter()
    for _ in range(repeat):
        parse()
    return (time.perf_counter() - started) / repeat * 1e6


def cases(now: datetime) -> list[tuple[str, int, Callable[[], object]]]:
    alerts = [alert(i, "n", now) for i in range(BATCH)]
    (resent,) = batches_of(alerts)
    fresh = iter(
        batches_of([alert(i, "new", now) for i in range(200 * BATCH)]) * 1000
    )  # cycled: 200 batches, 12,800 label sets
    webhook = json.dumps(
        {
            "version": "4",
            "status": "firing",
            "receiver": "tocsin",
            "groupKey": '{}:{alertname="HighRequestLatency"}',
            "externalURL": "http://alertmanager:9093",
            "alerts": [{**a, "status": "firing", "fingerprint": "c6a1b2c3"} for a in alerts],
        }
    ).encode()
    plain = json.dumps(
        {
            "events": [
                {
                    "labels": a["labels"],
                    "title": a["annotations"]["summary"],
                    "message": a["annotations"]["description"],
                    "severity": "warning",
                    "details": {"runbook": a["annotations"]["runbook_url"]},
                }
                for a in alerts
            ]
        }
    ).encode()
    trigger = json.dumps(
        {
            "routing_key": "a" * 32,
            "event_action": "trigger",
            "dedup_key": "disk-full-db-1",
            "payload": {
                "summary": "Disk full on db-1",
                "source": "db-1",
                "severity": "error",
                "component": "postgres",
                "custom_details": {"free": "0 B"},
            },
            "links": [{"href": "https://runbooks.example.com/disk", "text": "runbook"}],
        }
    ).encode()
    return [
        ("alertmanager v2 re-sent", BATCH, lambda: alertmanager.parse_postable(resent, now, "x")),
        ("alertmanager v2 new", BATCH, lambda: alertmanager.parse_postable(next(fresh), now, "x")),
        ("alertmanager webhook", BATCH, lambda: alertmanager.parse_webhook(webhook, "x")),
        ("plain events", BATCH, lambda: events.parse(plain, "x")),
        ("pagerduty", 1, lambda: pagerduty.to_inbound(pagerduty.parse(trigger), "x")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    now = datetime.now(UTC)
    table = cases(now)
    figures: dict[str, list[float]] = {name: [] for name, _, _ in table}
    for _, _, parse in table:
        parse()  # imports, schema building, first-use caches
    for _ in range(args.runs):
        for name, _, parse in table:  # interleaved, so a busy moment hits every format
            figures[name].append(timed(parse, args.repeat))
    print(f"load average {os.getloadavg()[0]:.2f}; {args.runs} runs of {args.repeat} parses")
    print(f"{'format':26} {'µs/body':>9} {'best':>9} {'µs/alert':>9} {'best':>7}")
    for name, alerts, _ in table:
        median, best = statistics.median(figures[name]), min(figures[name])
        row: Any = (name, median, best, median / alerts, best / alerts)
        print("{:26} {:9.1f} {:9.1f} {:9.2f} {:7.2f}".format(*row))


if __name__ == "__main__":
    main()
