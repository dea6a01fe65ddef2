"""The storefront's `system_logs`: per-minute lines in proportion to traffic, errors
following the scenario's error rate."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Protocol

from tocsin.demo.scenario import Row, Scenario, during, whole_seconds


class Traffic(Protocol):
    def orders_per_minute(self, at: datetime) -> float: ...


class Logs:
    """Writes the log lines of [begin, end) with `rng`, the generator's, so the rows are the
    same as when it wrote them itself."""

    def __init__(
        self,
        rng: random.Random,
        traffic: Traffic,
        start: datetime,
        s: Scenario,
        begin: datetime,
        end: datetime,
    ) -> None:
        self.rng, self.traffic, self.start, self.s = rng, traffic, start, s
        self.begin, self.end = begin, end
        self.rows: list[Row] = []

    def run(self) -> list[Row]:
        """Per-minute log lines in proportion to traffic; errors spread evenly through them.

        Errors follow a target share per minute through an accumulator, so a five-minute
        window is within about one error of its target. Outside the scenario no error is
        logged in minutes too quiet to keep one error under 5 % of a window's lines.
        """
        rng, at = self.rng, max(self.begin, self.start - timedelta(hours=self.s.log_history_hours))
        carry = 0.0
        while at < self.end:
            expected = 2 + 40 * self.traffic.orders_per_minute(at)
            count = max(1, round(expected * rng.uniform(0.9, 1.1)))
            share, phase = self._error_share(at)
            if phase == "normal" and expected * 5 < 40:
                carry = 0.0
            else:
                carry += share * count
            errors = min(count, int(carry))
            carry -= errors
            seconds = sorted(rng.randrange(60) for _ in range(count))
            error_slots = set(rng.sample(range(count), errors))
            for slot, second in enumerate(seconds):
                level = (
                    "error"
                    if slot in error_slots
                    else ("warning" if rng.random() < 0.035 else "info")
                )
                self.rows.append(self._log_line(at + timedelta(seconds=second), level, phase))
            at += timedelta(minutes=1)
        for number, row in enumerate(self.rows, 1):
            row["id"] = number
        return self.rows

    def _error_share(self, at: datetime) -> tuple[float, str]:
        s, rng = self.s, self.rng
        minute = (at - self.start).total_seconds() / 60
        if during(s.error_noise, self.start, at):
            # A slow swell around the WARNING threshold: it dips under 5 % but not under 4 %.
            wave = 0.062 + 0.016 * math.sin(2 * math.pi * (minute - s.error_noise[0]) / 14)
            return wave + rng.uniform(-0.002, 0.002), "noise"
        if during(s.error_spike, self.start, at):
            return s.spike_error_percent / 100 + rng.uniform(-0.01, 0.01), "spike"
        if during(s.error_tail, self.start, at):
            return 0.072 + rng.uniform(-0.008, 0.008), "tail"
        return s.normal_error_percent / 100 * rng.uniform(0.7, 1.3), "normal"

    def _log_line(self, at: datetime, level: str, phase: str) -> Row:
        rng = self.rng
        code = None
        if level == "error" and phase != "normal":
            level = "critical" if rng.random() < 0.1 else "error"
            source, code = rng.choice(("api", "checkout", "worker")), "db_pool_timeout"
            message = rng.choice(
                (
                    "could not obtain a database connection within 5000 ms",
                    'FATAL: too many connections for role "shop"',
                    "request failed: connection pool exhausted",
                )
            )
        elif level == "error":
            source, code, message = rng.choice(
                (
                    ("fulfillment", "provider_429", "Printful API returned 429 Too Many Requests"),
                    (
                        "webhooks",
                        "signature_mismatch",
                        "Stripe webhook signature verification failed",
                    ),
                    ("api", "render_failed", "product page render failed: missing mockup image"),
                    ("checkout", "address_invalid", "address validation service returned 500"),
                )
            )
        elif level == "warning":
            source, message = rng.choice(
                (
                    ("api", "slow request: GET /collections/all took 2.4 s"),
                    ("fulfillment", "provider response slower than 1 s"),
                    ("worker", "job retried: sync_inventory"),
                )
            )
        else:
            source, message = rng.choice(
                (
                    ("api", "GET /products 200"),
                    ("api", "GET /cart 200"),
                    ("checkout", "checkout session created"),
                    ("webhooks", "webhook received"),
                    ("worker", "job finished: sync_inventory"),
                    ("fulfillment", "status poll ok"),
                )
            )
        return {
            "timestamp": whole_seconds(at),
            "level": level,
            "source": source,
            "message": message,
            "error_code": code,
        }
