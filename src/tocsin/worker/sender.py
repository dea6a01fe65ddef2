"""Delivering outbox rows: claim due rows, send them outside any transaction, record how each
attempt went. `Courier` does each of those three; two ways drive it:

- `send_batch` (the worker's `send_due_notifications`): claim, send one by one, record the
  whole batch in one transaction. Deterministic, for `tocsin run --once`, tests and the demo.
- `Sender`, the `tocsin run` sender thread: deliveries in flight on a pool of threads, so a
  channel that times out delays nobody else. Claims, and records of finished deliveries, are
  one transaction each however many rows they cover, so a busy outbox costs two small
  transactions per round instead of two per notification.

Order: one alert's notifications to one channel and target (a lane) go one after another, in
the order they were written (a PagerDuty `resolve` never overtakes its `trigger`): the claim
takes no row while an earlier one of its lane is unsent (`outbox.claim_due`), so no two rows
of a lane are ever in flight together.

Crash safety is the outbox's: a claimed row is `sending` with a lease; a crash between
sending and recording leaves it to be claimed again when the lease runs out (a duplicate the
channel's idempotency key absorbs, where it has one). At most `CLAIM_LIMIT` rows are in
flight, so that is also the most a crash can leave sent but unrecorded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tocsin import redact
from tocsin.actions import alerts as alert_actions
from tocsin.clock import Clock
from tocsin.db import session_scope
from tocsin.egress import TransportError
from tocsin.notify.base import Channel
from tocsin.outbox import service as outbox
from tocsin.outbox.doorbell import DOORBELL
from tocsin.outbox.models import Notification
from tocsin.outbox.payload import Message
from tocsin.pipeline import Pipeline

log = logging.getLogger("tocsin.worker")


@dataclass(frozen=True)
class Attempt:
    """One delivery tried: the message, and the error if it failed."""

    message: Message
    error: TransportError | None


class Courier:
    """Carries claimed outbox rows to their channels and records how each attempt went. It
    holds what that needs: the store, the clock, the channels, the pipeline (for failure
    alerts) and the lease. The worker swaps `channels`, `pipeline` and `lease` on reload."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        channels: Mapping[str, Channel],
        pipeline: Pipeline,
        lease: timedelta,
        owner: str | None = None,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.channels = channels
        self.pipeline = pipeline
        self.lease = lease
        self.owner = owner
        self.taken_over = 0  # rows whose sender died, sent again by this one

    def claim(self, limit: int) -> list[Message]:
        if limit <= 0:
            return []
        took_over: list[str] = []
        with session_scope(self.factory) as session:
            now = self.clock.now()
            claimed = outbox.claim_due(
                session, now, limit=limit, lease=self.lease, owner=self.owner, took_over=took_over
            )
        if took_over:
            self.taken_over += len(took_over)
            log.warning("took over %d notifications whose sender's lease ran out", len(took_over))
        return claimed

    def deliver(self, message: Message) -> Attempt:
        """Send one message; never raises (an unexpected error is a retryable failure)."""
        channel = self.channels.get(message.channel)
        if channel is None:
            error = TransportError(f"channel {message.channel!r} is not configured", permanent=True)
            return Attempt(message, error)
        try:
            channel.send(message)
        except TransportError as exc:
            return Attempt(message, exc)
        except Exception as exc:
            log.exception("channel %s raised while sending %s", message.channel, message.id)
            return Attempt(message, TransportError(f"unexpected error: {type(exc).__name__}"))
        return Attempt(message, None)

    def record(self, attempts: Sequence[Attempt]) -> None:
        """One transaction for the lot: sent rows in one UPDATE, a recovered channel resolves
        its failure alert once, each failure is scheduled for retry or failed for good."""
        if not attempts:
            return
        with session_scope(self.factory) as session:
            now = self.clock.now()
            sent = [a.message for a in attempts if a.error is None]
            outbox.mark_sent(session, [m.id for m in sent], now)
            for channel in dict.fromkeys(m.channel for m in sent):
                alert_actions.delivery_recovered(session, self.pipeline, channel, now)
            for attempt in attempts:
                if attempt.error is not None:
                    self._failed(session, attempt.message, attempt.error, now)

    def _failed(
        self, session: Session, message: Message, error: TransportError, now: datetime
    ) -> None:
        # Channels keep secrets out of their errors; this is the last line before the text
        # reaches the log, the row's `last_error` and a failure alert's message.
        text = redact.text(str(error))
        state = outbox.mark_failed(
            session,
            message.id,
            now,
            text,
            permanent=error.permanent,
            retry_after=error.retry_after,
        )
        log.warning("notification %s on %s: %s (%s)", message.id, message.channel, text, state)
        if state == "failed":
            row = session.get(Notification, message.id)
            if row is not None:
                alert_actions.delivery_failed(session, self.pipeline, row, text, now)


def send_batch(courier: Courier) -> int:
    """Claim one batch, send it in order on this thread, record it; how many were claimed."""
    messages = courier.claim(outbox.CLAIM_LIMIT)
    courier.record([courier.deliver(message) for message in messages])
    return len(messages)


class Sender:
    """Deliveries in flight on `concurrency` threads (see the module's docstring). `pump()` is
    the sender thread's round: record what finished, claim what is due."""

    def __init__(self, courier: Courier, concurrency: int) -> None:
        self.courier = courier
        # Claimed ahead of the delivery threads: at most this many rows are sent but not yet
        # recorded when an instance dies (a redelivery each after its lease runs out).
        self.ahead = min(outbox.CLAIM_LIMIT, 2 * concurrency)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="deliver")
        self._mutex = threading.Lock()
        self._in_flight = 0
        self._finished: list[Attempt] = []

    def pump(self) -> int:
        """Record finished deliveries, then claim as many as there is room for; how much
        work was done (0: nothing to record and nothing due)."""
        recorded = self._record_finished()
        with self._mutex:
            room = self.ahead - self._in_flight
        claimed = self.courier.claim(room)
        with self._mutex:
            self._in_flight += len(claimed)
        for message in claimed:
            self._pool.submit(self._work, message)
        return recorded + len(claimed)

    def _record_finished(self) -> int:
        with self._mutex:
            finished, self._finished = self._finished, []
        try:
            self.courier.record(finished)
        except BaseException:
            with self._mutex:  # not recorded: keep them for the next round
                self._finished[:0] = finished
            raise
        return len(finished)

    def _work(self, message: Message) -> None:
        attempt = self.courier.deliver(message)
        with self._mutex:
            self._finished.append(attempt)
            self._in_flight -= 1
        DOORBELL.ring()  # the sender thread records it

    @property
    def in_flight(self) -> int:
        with self._mutex:
            return self._in_flight

    def close(self) -> int:
        """Let deliveries in flight finish and record them; those claimed but not begun stay
        `sending` for the graceful stop to hand back (`outbox.hand_back`). How many were
        recorded."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        return self._record_finished()
