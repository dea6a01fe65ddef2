"""The PostgreSQL side of the doorbell: one session per worker process that `LISTEN`s on the
outbox channel and rings this process's `DOORBELL` for each notification, so rows committed
by another instance wake this one's sender at once instead of at its next poll.

The session is a connection of its own in autocommit mode, outside the pool (a pooled
connection would be handed to other work between waits). It waits in `notifies()` with a
timeout so `stop` is seen within `TICK` seconds; a lost connection is logged, the sender falls
back to polling, and the listener reconnects after `RETRY` seconds. Nothing is lost while it
is down: the rows are in the store and the poll finds them."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from tocsin.outbox.doorbell import CHANNEL, DOORBELL, Doorbell

log = logging.getLogger("tocsin.worker")
TICK = 0.5
RETRY = 2.0


class Listener:
    """`start()` a daemon thread listening on `engine`'s database; `stop()` ends it."""

    def __init__(self, engine: Engine, doorbell: Doorbell = DOORBELL) -> None:
        self.engine = engine
        self.doorbell = doorbell
        self.heard = 0  # notifications received (for tests and the log)
        self.listening = threading.Event()  # set while LISTEN is in effect
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(TICK * 4)

    def _run(self) -> None:
        said = False
        while not self._stop.is_set():
            try:
                self._listen()
                said = False
            except Exception as exc:  # noqa: BLE001 - any failure: poll, and reconnect later
                self.listening.clear()
                if not said:
                    log.warning("not listening for outbox rows (%s); polling", type(exc).__name__)
                    said = True
                self._stop.wait(RETRY)

    def _listen(self) -> None:
        raw = self.engine.raw_connection()
        connection = raw.driver_connection
        raw.detach()  # out of the pool for good: it is in autocommit and listening
        try:
            connection.autocommit = True  # type: ignore[union-attr]
            connection.execute(f"LISTEN {CHANNEL}")  # type: ignore[union-attr]
            self.listening.set()
            log.info("listening for outbox rows committed by other instances")
            while not self._stop.is_set():
                for _ in connection.notifies(timeout=TICK):  # type: ignore[union-attr]
                    self.heard += 1
                    self.doorbell.ring()
        finally:
            self.listening.clear()
            raw.close()
