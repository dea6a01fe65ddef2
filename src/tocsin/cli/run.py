"""`tocsin run`: the workers and the HTTP API in one process, until SIGTERM; SIGHUP reloads
the configuration (both keep the running one when the new file is bad)."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NamedTuple

import typer

from tocsin.cli.common import ConfigOption, clock, fail, load_config, setup_logging, store

if TYPE_CHECKING:
    import asyncio

    from sqlalchemy.orm import Session, sessionmaker

    from tocsin.config import TocsinConfig
    from tocsin.worker.loop import Worker

log = logging.getLogger("tocsin.run")


class Tls(NamedTuple):
    cert: Path
    key: Path


def _tls(cert: Path | None, key: Path | None, workers_only: bool) -> Tls | None:
    """Both files or neither; loaded once here, so a key that does not match its certificate
    is one line before anything starts rather than an API thread that never listens."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        fail("--tls-cert and --tls-key go together")
    if workers_only:
        fail("--tls-cert and --tls-key serve the API; --workers-only serves none")
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        fail(f"--tls-cert {cert} with --tls-key {key}: cannot be used: {exc}")
    return Tls(cert, key)


def _listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        fail(f"--listen {text!r} is not HOST:PORT (like 127.0.0.1:8080)")
    return host.strip("[]"), int(port)


def run(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option(help="Run every worker step once and exit.")] = False,
    api_only: Annotated[
        bool, typer.Option("--api-only", help="Serve the API, no workers.")
    ] = False,
    workers_only: Annotated[
        bool, typer.Option("--workers-only", help="Run the workers, no API.")
    ] = False,
    listen: Annotated[
        str | None, typer.Option(help="HOST:PORT for the API (default: api.listen).")
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            "--tls-cert",
            exists=True,
            dir_okay=False,
            help="Serve the API over HTTPS with this certificate (PEM; chain after it).",
        ),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option(
            "--tls-key", exists=True, dir_okay=False, help="The certificate's private key (PEM)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the workers (due checks, notifications, timers, heartbeat) and serve the API.
    Refuses a store that is behind."""
    from tocsin import config as configuration
    from tocsin.errors import ConfigError
    from tocsin.worker.leases import wait_for_schema
    from tocsin.worker.loop import Worker

    if api_only and workers_only:
        fail("--api-only and --workers-only exclude each other")
    tls = _tls(tls_cert, tls_key, workers_only)
    setup_logging(verbose)
    loaded = load_config(config)
    if not api_only:
        _warn_about_roles(loaded.config)
    host, port = _listen(listen or loaded.config.api.listen)
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
        if api is not None:
            api.reload(fresh.config)
        return fresh.config

    with store(loaded, check_version=False, create=True) as factory:
        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)
        # Rolling upgrades: a store behind this code is waited for (`tocsin db upgrade`);
        # one ahead of it is refused, naming the version this instance needs.
        problem = wait_for_schema(factory, stop, 0 if once else 2)
        if problem:
            fail(problem)
        api = (
            None
            if workers_only or once
            else ApiThread(loaded.config, factory, host, port, stop, tls)
        )
        if api is not None:
            api.start()
        try:
            if api_only:
                while not stop.is_set():
                    stop.wait(1.0)
                    reload()
            else:
                _work(Worker(loaded.config, factory, clock), stop, once, reload)
        finally:
            if api is not None:
                api.stop()
        if api is not None and api.failed:
            fail(f"the API could not serve on {host}:{port}; see the log above")


def _warn_about_roles(config: TocsinConfig) -> None:
    """Say which SQL sources connect with a role that can do more than read."""
    from tocsin.checks.sources.roles import check_roles

    for found in check_roles(config.sources):
        if found.warning:
            log.warning("source %s %s", found.source, found.warning)
        else:
            log.warning("source %s: cannot check its role: %s", found.source, found.unchecked)


def _work(
    worker: Worker, stop: threading.Event, once: bool, reload: Callable[[], TocsinConfig | None]
) -> None:
    worker.start()
    try:
        if once:
            worker.tick()
        else:
            worker.run_forever(stop, reload)
    finally:
        worker.stop()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop when it is installed (cheaper per request), else asyncio's."""
    import asyncio

    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


class ApiThread:
    """uvicorn on its own thread and event loop (signals stay with the main thread), with
    the httptools parser and uvloop's loop."""

    def __init__(
        self,
        config: TocsinConfig,
        factory: sessionmaker[Session],
        host: str,
        port: int,
        stop: threading.Event,
        tls: Tls | None = None,
    ) -> None:
        import uvicorn

        from tocsin.web.app import create_app
        from tocsin.web.deps import Settings

        self.settings = Settings(config, factory, clock)
        self.app = create_app(self.settings)
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=host,
                port=port,
                http="httptools",
                log_level="warning",
                access_log=False,
                ssl_certfile=tls.cert if tls else None,
                ssl_keyfile=tls.key if tls else None,
            )
        )
        self.scheme = "https" if tls else "http"
        self._stop = stop
        self.failed = False
        self._thread = threading.Thread(target=self._serve, name="api", daemon=True)

    def _serve(self) -> None:
        import asyncio

        # (uvicorn exits by SystemExit when it cannot bind)
        with contextlib.suppress(SystemExit), asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(self.server.serve())
        if not self.server.started:
            self.failed = True
            self._stop.set()

    def start(self) -> None:
        self._thread.start()
        while self._thread.is_alive() and not self.server.started:
            self._thread.join(0.02)
        if self.server.started:
            for server in self.server.servers:
                for sock in server.sockets:
                    log.info("API listening on %s://%s:%s", self.scheme, *sock.getsockname()[:2])

    def reload(self, config: TocsinConfig) -> None:
        import asyncio

        from tocsin.web.app import sync_heartbeats

        self.settings.use(config)
        asyncio.run(sync_heartbeats(self.settings))

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
