"""The console under test: a configuration with a user of each role, their passwords, and
signing in through the real form (TestClient or a browser)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tocsin import actions
from tocsin.clock import Clock
from tocsin.config import TocsinConfig, parse
from tocsin.console import accounts
from tocsin.db import session_scope
from tocsin.fingerprint import fingerprint
from tocsin.pipeline import Pipeline

PASSWORD = "a long enough password"
CONSOLE = """
public_url: http://testserver
api: {rate_limit: 1000, rate_burst: 1000}
channels:
  console: {type: console}
users:
  ana: {role: admin, email: ana@example.com}
  bo: {role: responder}
  cy: {role: viewer}
"""


def console_config(extra: str = "") -> TocsinConfig:
    config, _ = parse(CONSOLE + extra, "test.yaml", env={})
    return config


def give_passwords(factory: sessionmaker[Session], clock: Clock, config: TocsinConfig) -> None:
    with session_scope(factory) as s:
        for user in config.users:
            accounts.set_password(s, config, user, PASSWORD, clock.now())


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, user: str, password: str = PASSWORD, next_: str = "") -> int:
    """Sign in through the form; the answer's status (303 when it worked)."""
    form = client.get("/login")
    body = {"csrf": csrf_in(form.text), "user": user, "password": password, "next": next_}
    return client.post("/login", data=body, follow_redirects=False).status_code


def open_alert(
    factory: sessionmaker[Session],
    clock: Clock,
    config: TocsinConfig,
    key: str,
    *,
    severity: str = "HIGH",
    title: str | None = None,
    runbook: str | None = None,
    **labels: str,
) -> int:
    """Fire an alert through the one door, as a check or an inbound event would."""
    new = actions.alerts.NewAlert(
        fingerprint=fingerprint("test", {"key": key}),
        origin="event",
        labels={"key": key, **labels},
        severity=severity,
        title=title or f"Alert {key}",
        message="",
        runbook=runbook,
    )
    with session_scope(factory) as s:
        alert, _ = actions.alerts.fire(s, Pipeline(config), new, clock.now())
        return alert.id


def evaluations(
    factory: sessionmaker[Session], check: str, values: list[float], end: datetime
) -> None:
    """Store one evaluation a minute of `check`, ending at `end`, one result row each."""
    from tocsin.checks.models import Evaluation

    with session_scope(factory) as s:
        for i, value in enumerate(values):
            at = end - timedelta(minutes=len(values) - i)
            s.add(
                Evaluation(
                    check_name=check,
                    slot_at=at,
                    started_at=at,
                    finished_at=at,
                    duration_ms=2.0,
                    status="ok",
                    results=[{"fingerprint": "f", "value": value}],
                )
            )
