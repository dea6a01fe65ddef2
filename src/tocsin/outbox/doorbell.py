"""Wake the sender when a notification is committed, instead of waiting for the next poll.

The outbox row stays the truth: the doorbell only shortens the wait of a sender in the same
process (the poll interval still covers rows written by other processes). A ring is sent
after the commit that wrote the rows, never before, so a woken sender always finds them.
"""

from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

_KEY = "tocsin_outbox_written"


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
    """Mark the session: ring once its transaction commits."""
    session.info[_KEY] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_KEY, False):
        DOORBELL.ring()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
