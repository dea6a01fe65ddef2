"""The storefront demo database: 30 days of a print-on-demand shop, then one bad morning.

`create_storefront(url, start, scenario)` (re)creates five tables of reference 000 — `orders`,
`system_logs`, `fulfillment_events`, `manual_queue`, and `provider_config`, which its provider
failover runbook changes — and fills them from `random.Random(seed)`,
so the same arguments always give the same rows, on SQLite and on PostgreSQL alike.

Timestamps are UTC. SQLite stores them as TEXT `YYYY-MM-DD HH:MM:SS`, the form Tocsin's SQL
source binds its time parameters in, so `created_at > :since` compares text correctly;
PostgreSQL stores `timestamptz`. On PostgreSQL the tables go to the first schema of the
connection's `search_path`: give each storefront its own schema with a URL such as
`postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dshop` (the schema
must exist; existing storefront tables in it are dropped first).

The whole scenario is written at once, including rows "in the future" of a virtual clock, so
queries over it must bound time on both sides (`created_at <= :now`), and a queue item counts
as pending at `:now` when it was created by then and not yet completed (`completed_at`).
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from tocsin.clock import ensure_utc

NEW_YORK = ZoneInfo("America/New_York")
DEFAULT_START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
"""Tuesday 17 November 2026, 09:00 in New York."""

Row = dict[str, Any]
Window = tuple[int, int]


@dataclass(frozen=True)
class Scenario:
    """A bad morning, as minute offsets `(begin, end)` from the scenario start."""

    seed: int = 20261117
    history_days: int = 30
    log_history_hours: int = 48  # the shop keeps two days of logs; older ones are archived
    minutes: int = 360
    payment_outage: Window = (30, 60)  # webhooks stop creating orders: silence, no errors
    error_noise: Window = (75, 95)  # wanders 4.3-8 %, crossing 5 % without going under 4 %
    error_spike: Window = (95, 115)  # ~12 %
    error_tail: Window = (115, 130)  # decays through 6-8 %
    printify_slow: Window = (140, 150)  # printify p95 ~2.5x its baseline
    printify_degraded: Window = (150, 180)  # ~3.5x; its submissions time out into the queue
    # A retry script resubmits the last two days' orders to printful, twice: after each
    # wave today's cost stands this far above the 30-day average, and this many of the
    # duplicates are flagged into the manual queue.
    cost_waves: tuple[Window, Window] = ((220, 230), (245, 255))
    cost_wave_percents: tuple[float, float] = (37.0, 85.0)
    duplicates_flagged: tuple[int, int] = (30, 40)
    queue_drain: Window = (290, 310)  # the team clears the manual queue, urgent first
    normal_error_percent: float = 1.5
    spike_error_percent: float = 12.5

    @property
    def total(self) -> timedelta:
        return timedelta(minutes=self.minutes)


def scenario_events(scenario: Scenario) -> list[tuple[timedelta, str]]:
    """What happens when, for the demo's narrative (offsets from the scenario start)."""

    def at(minute: int) -> timedelta:
        return timedelta(minutes=minute)

    s = scenario
    return [
        (at(0), "Tuesday morning in New York: normal traffic"),
        (at(s.payment_outage[0]), "Stripe webhooks stop creating orders (no errors, just silence)"),
        (at(s.payment_outage[1]), "Webhook processing restored: orders flow again"),
        (at(s.error_noise[0]), "Database connection pool saturating: error rate 5-8 %"),
        (at(s.error_spike[0]), "Connection pool exhausted: error rate ~12 %"),
        (at(s.error_tail[0]), "Workers restarted: error rate decays through 6-8 %"),
        (at(s.error_tail[1]), "Error rate back to normal (~1.5 %)"),
        (at(s.printify_slow[0]), "Printify API slows down: p95 ~2.5x its baseline"),
        (
            at(s.printify_degraded[0]),
            "Printify p95 ~3.5x baseline; timed-out orders go to the manual queue as urgent",
        ),
        (at(s.printify_degraded[1]), "Printify recovers"),
        (
            at(s.cost_waves[0][0]),
            "A retry script resubmits two days of orders to Printful: costs pile up, "
            "duplicates are flagged into the manual queue",
        ),
        (
            at(s.cost_waves[0][1]),
            f"Retry script done; today's cost ~{s.cost_wave_percents[0]:.0f} % above average",
        ),
        (at(s.cost_waves[1][0]), "Someone runs the retry script again"),
        (
            at(s.cost_waves[1][1]),
            f"Second run done; today's cost ~{s.cost_wave_percents[1]:.0f} % above average "
            "until the UTC day ends",
        ),
        (at(s.queue_drain[0]), "The team drains the manual queue, urgent items first"),
        (at(s.queue_drain[1]), "Manual queue back to normal; traffic normal"),
    ]


# --- schema --------------------------------------------------------------------------------


class UtcTimestamp(TypeDecorator[datetime]):
    """Aware UTC datetimes; TEXT `YYYY-MM-DD HH:MM:SS` on SQLite, `timestamptz` elsewhere."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(19))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = ensure_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None).isoformat(" ", "seconds")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("status", String(20), nullable=False),  # paid | refunded
    Column("total_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("customer_email", String(100), nullable=False),
    Column("stripe_payment_intent", String(40), nullable=False),
    Index("ix_orders_created_at", "created_at"),
)

system_logs = Table(
    "system_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("timestamp", UtcTimestamp, nullable=False),
    Column("level", String(10), nullable=False),  # info | warning | error | critical
    Column("source", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("error_code", String(40)),
    Index("ix_system_logs_timestamp", "timestamp"),
)

fulfillment_events = Table(
    "fulfillment_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer),
    Column("provider_name", String(20), nullable=False),  # printful | printify
    Column("event_type", String(20), nullable=False),  # order_submit | status_poll
    Column("status", String(20), nullable=False),  # submitted | failed (submits); success (polls)
    Column("response_time_ms", Integer),
    Column("cost_cents", Integer, nullable=False),
    Column("shipping_cost_cents", Integer, nullable=False),
    Column("error_code", String(40)),
    Column("created_at", UtcTimestamp, nullable=False),
    Index("ix_fulfillment_events_created_at", "created_at"),
)

manual_queue = Table(
    "manual_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer),
    Column("priority", String(10), nullable=False),  # low | normal | high | urgent
    # The state when the data ends; at a virtual time, use created_at and completed_at.
    Column("status", String(10), nullable=False),  # pending | done
    Column("reason", String(60), nullable=False),
    Column("assigned_to", String(40)),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("completed_at", UtcTimestamp),
    Index("ix_manual_queue_created_at", "created_at"),
)

# One row per provider: the switch reference 000 §6.3.3 flips to fail over by hand.
provider_config = Table(
    "provider_config",
    metadata,
    Column("provider_name", String(20), primary_key=True),
    Column("is_enabled", Boolean, nullable=False),
    Column("disabled_reason", Text),
    Column("disabled_at", UtcTimestamp),
    Column("disabled_by", String(40)),
    Column("re_enabled_at", UtcTimestamp),
    Column("last_successful_call", UtcTimestamp),
    Column("current_health_score", Integer, nullable=False),  # 0-100
)


# --- traffic -------------------------------------------------------------------------------

# Orders per minute at each hour in New York: quiet nights, a morning ramp, an evening peak.
# Every business hour (06:00-23:00) keeps gaps between orders well under ten minutes.
# fmt: off
_ORDERS_PER_MINUTE = (
    0.12, 0.07, 0.05, 0.04, 0.04, 0.10, 0.25, 0.32, 0.40, 0.45, 0.50, 0.55,  # 00:00-11:00
    0.60, 0.55, 0.50, 0.50, 0.52, 0.56, 0.62, 0.70, 0.75, 0.65, 0.45, 0.25,  # 12:00-23:00
)
# fmt: on
_PROVIDERS = {"printful": 450.0, "printify": 675.0}  # median ms; p95 ≈ median x 1.78
_LATENCY_SIGMA = 0.35
_PRINTIFY_P95 = 1200
_PRODUCT_COSTS = (1195, 2395, 850, 695)  # t-shirt, hoodie, poster, mug (cents)
_PRODUCT_SHARES = (0.40, 0.60, 0.80, 1.00)  # cumulative
_QUEUE_REASONS = (
    "address_validation_failed",
    "artwork_validation_failed",
    "customer_request",
    "payment_review",
    "out_of_stock",
)
_STAFF = ("ana", "ben", "chloe", "dev")


class _Traffic:
    """Expected orders per minute at an instant: hour of day in New York, weekday, day noise."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._day_factor: dict[date, float] = {}

    def orders_per_minute(self, at: datetime) -> float:
        local = at.astimezone(NEW_YORK)
        day = local.date()
        if day not in self._day_factor:
            weekend = 1.15 if local.weekday() >= 5 else 1.0
            self._day_factor[day] = weekend * self._rng.uniform(0.94, 1.06)
        hour = local.hour + local.minute / 60
        low = _ORDERS_PER_MINUTE[int(hour) % 24]
        high = _ORDERS_PER_MINUTE[(int(hour) + 1) % 24]
        return (low + (hour - int(hour)) * (high - low)) * self._day_factor[day]


def _seconds(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def _in(window: Window, start: datetime, at: datetime) -> bool:
    return start + timedelta(minutes=window[0]) <= at < start + timedelta(minutes=window[1])


def _latency(rng: random.Random, provider: str, at: datetime, start: datetime, s: Scenario) -> int:
    if provider == "printify" and _in(s.printify_slow, start, at):
        return round(_PRINTIFY_P95 * rng.uniform(2.25, 2.8))
    if provider == "printify" and _in(s.printify_degraded, start, at):
        return round(_PRINTIFY_P95 * rng.uniform(3.4, 4.3))
    return round(rng.lognormvariate(math.log(_PROVIDERS[provider]), _LATENCY_SIGMA))


@dataclass
class _Data:
    orders: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    queue: list[Row] = field(default_factory=list)
    logs: list[Row] = field(default_factory=list)


class _Generator:
    def __init__(self, start: datetime, s: Scenario) -> None:
        self.start, self.s = start, s
        self.rng = random.Random(s.seed)
        self.traffic = _Traffic(self.rng)
        self.end = start + s.total
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self.begin = midnight - timedelta(days=s.history_days)
        self.data = _Data()
        self.order_cost: dict[int, tuple[int, int]] = {}

    def run(self) -> _Data:
        self._orders()
        self._polls()
        self._cost_storm()
        self._scenario_queue()
        self._logs()
        for rows in (self.data.events, self.data.queue):
            rows.sort(key=lambda r: (r["created_at"], r["order_id"] or 0))
            for number, row in enumerate(rows, 1):
                row["id"] = number
        return self.data

    # orders, their fulfilment and the background manual queue

    def _orders(self) -> None:
        rng, at = self.rng, self.begin
        # The first order of the degradation goes to printify, so the queue's oldest urgent
        # item has a known age.
        force_printify: datetime | None = self.start + timedelta(
            minutes=self.s.printify_degraded[0]
        )
        while True:
            # Jittered gaps rather than Poisson ones: busy hours never go ten minutes silent.
            at += timedelta(minutes=rng.uniform(0.4, 1.6) / self.traffic.orders_per_minute(at))
            if at >= self.end:
                return
            if _in(self.s.payment_outage, self.start, at):
                continue
            provider = "printful" if rng.random() < 0.75 else "printify"
            if force_printify is not None and at >= force_printify:
                provider, force_printify = "printify", None
            self._order(_seconds(at), provider)

    def _order(self, at: datetime, provider: str) -> None:
        rng = self.rng
        number = len(self.data.orders) + 1
        cost = rng.choices(_PRODUCT_COSTS, cum_weights=_PRODUCT_SHARES)[0]
        cost += rng.choice((0, 0, 150, 300))
        shipping = rng.choice((399, 469, 549, 649, 799))
        self.order_cost[number] = (cost, shipping)
        self.data.orders.append(
            {
                "id": number,
                "created_at": at,
                "status": "refunded" if rng.random() < 0.015 else "paid",
                "total_cents": round(cost * rng.uniform(1.9, 2.4)) + shipping,
                "currency": "usd",
                "customer_email": f"customer{rng.randrange(1, 40_000)}@example.com",
                "stripe_payment_intent": "pi_"
                + "".join(rng.choices(string.ascii_letters + string.digits, k=24)),
            }
        )
        submit_at = _seconds(at + timedelta(seconds=rng.randrange(60, 240)))
        if provider == "printify" and _in(self.s.printify_degraded, self.start, submit_at):
            self._submit(number, provider, submit_at, failed="timeout")
            self._queue_item(
                number,
                submit_at + timedelta(seconds=30),
                "urgent",
                "printify_timeout_printful_unavailable",
                done_at=None,
            )
            return
        if rng.random() < 0.02:
            self._submit(
                number,
                provider,
                submit_at,
                failed=rng.choice(("rate_limited", "invalid_address", "out_of_stock")),
            )
            provider = "printify" if provider == "printful" else "printful"
            submit_at = _seconds(submit_at + timedelta(seconds=rng.randrange(120, 360)))
        self._submit(number, provider, submit_at)
        if rng.random() < 0.02:
            self._background_queue_item(number, at)

    def _submit(
        self,
        order_id: int,
        provider: str,
        at: datetime,
        failed: str | None = None,
    ) -> None:
        cost, shipping = self.order_cost[order_id]
        self.data.events.append(
            {
                "order_id": order_id,
                "provider_name": provider,
                "event_type": "order_submit",
                "status": "failed" if failed else "submitted",
                "response_time_ms": _latency(self.rng, provider, at, self.start, self.s),
                "cost_cents": 0 if failed else cost,
                "shipping_cost_cents": 0 if failed else shipping,
                "error_code": failed,
                "created_at": at,
            }
        )

    def _background_queue_item(self, order_id: int, order_at: datetime) -> None:
        rng = self.rng
        at = _seconds(order_at + timedelta(seconds=rng.randrange(120, 600)))
        priority = rng.choices(("low", "normal", "high", "urgent"), (30, 50, 15, 5))[0]
        if priority in ("high", "urgent"):
            # Someone is on call for these at any hour.
            done = at + timedelta(minutes=rng.uniform(10, 40))
        else:
            done = self._next_office_moment(at) + timedelta(minutes=rng.uniform(20, 120))
        self._queue_item(order_id, at, priority, rng.choice(_QUEUE_REASONS), _seconds(done))

    def _next_office_moment(self, at: datetime) -> datetime:
        """`at` if it falls in office hours (08:00-18:00 New York), else the next 08:00."""
        local = at.astimezone(NEW_YORK)
        if 8 <= local.hour < 18:
            return at
        day = local.date() if local.hour < 8 else local.date() + timedelta(days=1)
        opening = datetime(day.year, day.month, day.day, 8, tzinfo=NEW_YORK)
        return opening.astimezone(UTC) + timedelta(minutes=self.rng.uniform(0, 30))

    def _queue_item(
        self,
        order_id: int | None,
        at: datetime,
        priority: str,
        reason: str,
        done_at: datetime | None,
    ) -> None:
        if done_at is not None and done_at > self.end:
            done_at = None
        self.data.queue.append(
            {
                "order_id": order_id,
                "priority": priority,
                "reason": reason,
                "status": "done" if done_at else "pending",
                "assigned_to": self.rng.choice(_STAFF) if done_at else None,
                "created_at": at,
                "completed_at": done_at,
            }
        )

    def _polls(self) -> None:
        """Each provider's order-status API is polled every five minutes (no cost)."""
        rng = self.rng
        for offset, provider in ((100, "printful"), (250, "printify")):
            at = self.begin + timedelta(seconds=offset)
            while at < self.end:
                moment = _seconds(at + timedelta(seconds=rng.randrange(-20, 20)))
                self.data.events.append(
                    {
                        "order_id": None,
                        "provider_name": provider,
                        "event_type": "status_poll",
                        "status": "success",
                        "response_time_ms": _latency(rng, provider, moment, self.start, self.s),
                        "cost_cents": 0,
                        "shipping_cost_cents": 0,
                        "error_code": None,
                        "created_at": moment,
                    }
                )
                at += timedelta(minutes=5)

    # the scenario's own rows

    def _cost_storm(self) -> None:
        """Resubmit old orders, wave by wave, until today's cost is each wave's percent above
        the 30-day average daily cost, as the cost check computes them (UTC days)."""
        s = self.s
        first = self.start + timedelta(minutes=s.cost_waves[0][0])
        candidates = iter(
            [
                o["id"]
                for o in self.data.orders
                if first - timedelta(days=2) <= o["created_at"] < first
            ]
        )
        for (begin, end), percent, flagged in zip(
            s.cost_waves, s.cost_wave_percents, s.duplicates_flagged, strict=True
        ):
            wave_begin = self.start + timedelta(minutes=begin)
            wave_end = self.start + timedelta(minutes=end)
            average, today_cost = self._costs_at(wave_end)
            missing = average * (1 + percent / 100) - today_cost
            picked: list[int] = []
            for order_id in candidates:
                picked.append(order_id)
                missing -= sum(self.order_cost[order_id])
                if missing <= 0:
                    break
            self._resubmit(picked, wave_begin, wave_end, flagged)

    def _costs_at(self, at: datetime) -> tuple[float, int]:
        """(average daily cost of the 30 UTC days before `at`'s day, cost of that day so far)."""
        today = at.replace(hour=0, minute=0, second=0, microsecond=0)
        daily: dict[date, int] = {}
        today_cost = 0
        for event in self.data.events:
            if event["status"] != "submitted":
                continue
            cost = event["cost_cents"] + event["shipping_cost_cents"]
            if today - timedelta(days=30) <= event["created_at"] < today:
                day = event["created_at"].date()
                daily[day] = daily.get(day, 0) + cost
            elif today <= event["created_at"] <= at:
                today_cost += cost
        return (sum(daily.values()) / len(daily) if daily else 0.0), today_cost

    def _resubmit(self, picked: list[int], begin: datetime, end: datetime, flagged: int) -> None:
        rng = self.rng
        span = (end - begin).total_seconds()
        flag = set(rng.sample(picked, min(flagged, len(picked))))
        for index, order_id in enumerate(picked):
            at = _seconds(begin + timedelta(seconds=span * index / max(1, len(picked))))
            self._submit(order_id, "printful", at)
            if order_id in flag:
                self._queue_item(
                    order_id,
                    at + timedelta(seconds=45),
                    "high" if rng.random() < 0.2 else "normal",
                    "duplicate_submission",
                    done_at=None,
                )

    def _scenario_queue(self) -> None:
        """Items the scenario left pending are drained, urgent first, in `queue_drain`."""
        begin = self.start + timedelta(minutes=self.s.queue_drain[0])
        span = (self.s.queue_drain[1] - self.s.queue_drain[0]) * 60
        stuck = [
            q for q in self.data.queue if q["completed_at"] is None and q["created_at"] < begin
        ]
        stuck.sort(key=lambda q: (q["priority"] != "urgent", q["created_at"]))
        for index, item in enumerate(stuck):
            done = _seconds(begin + timedelta(seconds=span * (index + 1) / len(stuck)))
            if done <= self.end:
                item.update(status="done", completed_at=done, assigned_to=self.rng.choice(_STAFF))

    # logs

    def _logs(self) -> None:
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
                self.data.logs.append(self._log_line(at + timedelta(seconds=second), level, phase))
            at += timedelta(minutes=1)
        for number, row in enumerate(self.data.logs, 1):
            row["id"] = number

    def _error_share(self, at: datetime) -> tuple[float, str]:
        s, rng = self.s, self.rng
        minute = (at - self.start).total_seconds() / 60
        if _in(s.error_noise, self.start, at):
            # A slow swell around the WARNING threshold: it dips under 5 % but not under 4 %.
            wave = 0.062 + 0.016 * math.sin(2 * math.pi * (minute - s.error_noise[0]) / 14)
            return wave + rng.uniform(-0.002, 0.002), "noise"
        if _in(s.error_spike, self.start, at):
            return s.spike_error_percent / 100 + rng.uniform(-0.01, 0.01), "spike"
        if _in(s.error_tail, self.start, at):
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
            "timestamp": _seconds(at),
            "level": level,
            "source": source,
            "message": message,
            "error_code": code,
        }


def generate(start: datetime, scenario: Scenario) -> dict[str, list[Row]]:
    """The storefront's rows per table, without touching a database."""
    data = _Generator(ensure_utc(start), scenario).run()
    last_call = {
        provider: max(e["created_at"] for e in data.events if e["provider_name"] == provider)
        for provider in _PROVIDERS
    }
    return {
        "orders": data.orders,
        "fulfillment_events": data.events,
        "manual_queue": data.queue,
        "system_logs": data.logs,
        "provider_config": [
            {
                "provider_name": provider,
                "is_enabled": True,
                "disabled_reason": None,
                "disabled_at": None,
                "disabled_by": None,
                "re_enabled_at": None,
                "last_successful_call": last_call[provider],
                "current_health_score": 100,
            }
            for provider in _PROVIDERS
        ],
    }


def create_storefront(
    url: str, start: datetime = DEFAULT_START, scenario: Scenario | None = None
) -> None:
    """(Re)create the storefront tables at `url` and fill them for `scenario` from `start`."""
    rows = generate(start, scenario or Scenario())
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.drop_all(conn)
            metadata.create_all(conn)
            for table in metadata.sorted_tables:
                for chunk in _chunks(rows[table.name], 10_000):
                    conn.execute(table.insert(), chunk)
    finally:
        engine.dispose()


def _chunks(rows: list[Row], size: int) -> Iterator[list[Row]]:
    for begin in range(0, len(rows), size):
        yield rows[begin : begin + size]
