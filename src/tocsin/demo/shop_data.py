"""The storefront's rows: 30 days of orders, their fulfilment and the manual queue, then the
scenario's morning; `generate` returns them per table without touching a database."""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tocsin.clock import ensure_utc
from tocsin.demo.scenario import NEW_YORK, Row, Scenario, during, whole_seconds
from tocsin.demo.shop_logs import Logs

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


def _latency(rng: random.Random, provider: str, at: datetime, start: datetime, s: Scenario) -> int:
    if provider == "printify" and during(s.printify_slow, start, at):
        return round(_PRINTIFY_P95 * rng.uniform(2.25, 2.8))
    if provider == "printify" and during(s.printify_degraded, start, at):
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
        self.data.logs = Logs(
            self.rng, self.traffic, self.start, self.s, self.begin, self.end
        ).run()
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
            if during(self.s.payment_outage, self.start, at):
                continue
            provider = "printful" if rng.random() < 0.75 else "printify"
            if force_printify is not None and at >= force_printify:
                provider, force_printify = "printify", None
            self._order(whole_seconds(at), provider)

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
        submit_at = whole_seconds(at + timedelta(seconds=rng.randrange(60, 240)))
        if provider == "printify" and during(self.s.printify_degraded, self.start, submit_at):
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
            submit_at = whole_seconds(submit_at + timedelta(seconds=rng.randrange(120, 360)))
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
        at = whole_seconds(order_at + timedelta(seconds=rng.randrange(120, 600)))
        priority = rng.choices(("low", "normal", "high", "urgent"), (30, 50, 15, 5))[0]
        if priority in ("high", "urgent"):
            # Someone is on call for these at any hour.
            done = at + timedelta(minutes=rng.uniform(10, 40))
        else:
            done = self._next_office_moment(at) + timedelta(minutes=rng.uniform(20, 120))
        self._queue_item(order_id, at, priority, rng.choice(_QUEUE_REASONS), whole_seconds(done))

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
                moment = whole_seconds(at + timedelta(seconds=rng.randrange(-20, 20)))
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
            at = whole_seconds(begin + timedelta(seconds=span * index / max(1, len(picked))))
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
            done = whole_seconds(begin + timedelta(seconds=span * (index + 1) / len(stuck)))
            if done <= self.end:
                item.update(status="done", completed_at=done, assigned_to=self.rng.choice(_STAFF))


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
