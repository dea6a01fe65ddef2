"""`tocsin run`: the worker, until SIGTERM; SIGHUP reloads the configuration."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from tocsin import config as configuration
from tocsin.cli.common import ConfigOption, clock, load_config, setup_logging, store
from tocsin.config import TocsinConfig
from tocsin.errors import ConfigError
from tocsin.worker.loop import Worker

log = logging.getLogger("tocsin.run")


def run(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option(help="Run every step once and exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the worker: due checks, notifications, heartbeat. Refuses a store that is behind."""
    setup_logging(verbose)
    loaded = load_config(config)
    path: Path = loaded.path
    stop = threading.Event()
    reload_wanted = threading.Event()

    def on_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; finishing the current step", signal.Signals(signum).name)
        stop.set()

    def on_hup(_signum: int, _frame: FrameType | None) -> None:
        reload_wanted.set()

    def reload() -> TocsinConfig | None:
        if not reload_wanted.is_set():
            return None
        reload_wanted.clear()
        try:
            fresh = configuration.load(path)
        except ConfigError as exc:
            log.error("reload failed; keeping the running configuration:\n%s", exc)
            return None
        if fresh.database_url != loaded.database_url:
            log.error("reload: the store URL cannot change while running; restart instead")
            return None
        return fresh.config

    with store(loaded) as factory:
        worker = Worker(loaded.config, factory, clock)
        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)
        worker.start()
        try:
            if once:
                worker.tick()
            else:
                worker.run_forever(stop, reload)
        finally:
            worker.stop()
