"""Wake the sender when a notification is committed, instead of waiting for the next poll.

The outbox row stays the truth: the doorbell only shortens the wait of a sender. A ring is
sent after the commit that wrote the rows, never before, so a woken sender always finds them.

- In this process: the `after_commit` hook rings `DOORBELL`.
- Across processes on PostgreSQL: the writing transaction also runs `pg_notify(CHANNEL, '')`,
  which PostgreSQL delivers at its commit (and drops on rollback) to every session listening
  on the channel; `outbox.listen.Listener` is that session in each worker, and rings its own
  `DOORBELL`. So a row committed by an `--api-only` instance wakes the senders of the others
  within milliseconds. On SQLite (one machine, usually one process) the poll interval covers
  writers in other processes.
"""

from __future__ import annotations

import threading

from sqlalchemy import event, text
from sqlalchemy.orm import Session

_KEY = "tocsin_outbox_written"
CHANNEL = "tocsin_outbox"


class Doorbell:
    def __init__(self) -> None:
        self._event = threading.Event()

    def ring(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until rung or `timeout` seconds; True if rung."""
        rung = self._event.wait(timeout)
        self._event.clear()
        return rung


DOORBELL = Doorbell()


def written(session: Session) -> None:
    """Mark the session: ring once its transaction commits (here, and on PostgreSQL in every
    listening process). `pg_notify` runs at each call, not once per transaction: a savepoint
    rolled back takes its notification with it, and PostgreSQL delivers one notification
    per transaction however many identical ones it sent."""
    session.info[_KEY] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_KEY, False):
        DOORBELL.ring()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
