"""`tocsin demo`: the storefront scenario on virtual time, printed as a timeline.

A temporary store and a generated storefront database (30 days of history, then a bad
morning); the five checks of the example configuration run every virtual minute through the
real worker; each alert transition and notification is printed as it happens; a summary
table closes. The alerts come from the checks, and the incident from the payments alert's
route (`incident: auto`), its reminder and its missed-update page from the worker. What ana
does is scripted: she acknowledges, takes command, posts her updates, runs the runbook's
verification and resolves the incident.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin import actions, store
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.alerts.service import NewAlert
from tocsin.checks.models import Evaluation
from tocsin.clock import VirtualClock
from tocsin.config.fields import SEVERITY_RANK
from tocsin.config.loader import parse
from tocsin.config.model import TocsinConfig
from tocsin.config.noise import GroupingConfig
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.demo.standins import StandIns
from tocsin.demo.storefront import DEFAULT_START, Scenario, create_storefront, scenario_events
from tocsin.fingerprint import fingerprint
from tocsin.incidents import service as incidents
from tocsin.incidents.models import IncidentAlert, IncidentEvent
from tocsin.incidents.service import NewUpdate
from tocsin.noise import maintenance
from tocsin.noise.models import MaintenanceWindow
from tocsin.noise.mutes import explain
from tocsin.routing import default_routes
from tocsin.statuspage import export
from tocsin.worker.loop import Worker

ZONE = ZoneInfo("America/New_York")
STYLE = {"CRITICAL": "bold red", "HIGH": "red", "WARNING": "yellow", "INFO": "blue"}
ICON = {"fired": "🔴", "severity_changed": "🟠", "acknowledged": "🟡", "resolved": "🟢"}
ACK_AFTER = timedelta(minutes=4)


@dataclass
class DemoResult:
    evaluations: int = 0
    alerts: int = 0
    notifications: int = 0
    events: list[tuple[datetime, str, str, str]] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)
    storm_notifications: int = 0
    muted_in_window: int = 0
    elapsed_s: float = 0.0
    incident: str | None = None  # the public incident declared during the payment outage
    status_url: str = ""  # where the page shows it
    ended_at: datetime | None = None  # the virtual clock when the demo ended


# Reference 000 §6.2.3's policies, over the stand-ins' channels.
POLICIES: dict[str, Any] = {
    "critical": {
        "steps": [
            {"after": "0m", "notify": ["pagerduty"]},
            {"after": "5m", "notify": ["phone"]},
            {"after": "15m", "notify": ["phone", "sms"]},
            {"after": "30m", "notify": ["phone", "sms", "email"]},
        ]
    },
    "high": {
        "steps": [
            {"after": "0m", "notify": ["discord"]},
            {"after": "15m", "notify": ["email"]},
            {"after": "60m", "notify": ["discord", "sms"]},
        ]
    },
    "warning": {
        "steps": [
            {"after": "0m", "notify": ["discord"]},
            {"after": "2h", "notify": ["email"]},
        ]
    },
}


USERS = {"ana": {"name": "Ana", "email": "ana@shop.example", "phone": "+15551230001"}}
INCIDENTS = {
    "timezone": "America/New_York",
    "update_every": "15m",
    "grace": "5m",
    "channels": ["discord"],
    "via": ["sms"],
    "oncall": {"payments": "user:ana"},
}


def incident_routes(config: TocsinConfig) -> dict[str, Any]:
    """§6.2.1's matrix, with one route before it: a CRITICAL payments alert declares an
    incident (`incident: auto`), notifying no channel of its own (the matrix does)."""
    tree = default_routes(config).model_dump(by_alias=True, exclude_none=True)
    auto = {
        "matchers": ['service="payments"', 'severity="CRITICAL"'],
        "notify": [],
        "incident": "auto",
        "continue": True,
    }
    tree["routes"] = [auto, *tree["routes"]]
    return tree


def load_example(
    shop_url: str, store_url: str, channels: dict[str, Any] | None = None
) -> TocsinConfig:
    """The example configuration; with `channels`, those replace its console channel and
    §6.2.3's escalation policies are added (the default routes then follow §6.2.1)."""
    example = resources.files("tocsin.examples").joinpath("storefront.yaml")
    text = example.read_text("utf-8")
    if channels is not None:
        data = yaml.safe_load(text)
        data.update(channels=channels, escalation_policies=POLICIES)
        # The example's reports post to its console channel, which the stand-ins replace;
        # the demo does not show reports yet, nor the SLOs' burn-rate alerts (its story
        # counts its pages).
        data.pop("reports", None)
        data.pop("slos", None)
        data.update(users=USERS, incidents=INCIDENTS)
        first, _ = parse(
            yaml.safe_dump(data, sort_keys=False), "demo.yaml", env={"SHOP_DATABASE_URL": shop_url}
        )
        data["routes"] = incident_routes(first)
        text = yaml.safe_dump(data, sort_keys=False)
    # Its real path, so that `runbooks.path` finds the shipped runbooks beside it.
    config, _ = parse(text, str(example), env={"SHOP_DATABASE_URL": shop_url})
    return config.model_copy(update={"store": config.store.model_copy(update={"url": store_url})})


def run_demo(
    console: Console,
    workdir: Path | None = None,
    scenario: Scenario | None = None,
    step: timedelta = timedelta(minutes=1),
) -> DemoResult:
    scenario = scenario or Scenario()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tocsin-demo-") as tmp:
        folder = workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        shop_url, store_url = f"sqlite:///{folder / 'shop.db'}", f"sqlite:///{folder / 'tocsin.db'}"
        for leftover in ("shop.db", "tocsin.db"):
            for suffix in ("", "-wal", "-shm"):
                (folder / f"{leftover}{suffix}").unlink(missing_ok=True)
        with console.status("generating the storefront: 30 days of orders, logs, fulfilment"):
            t0 = time.perf_counter()
            create_storefront(shop_url, DEFAULT_START, scenario)
        console.print(
            f"storefront database ready in {time.perf_counter() - t0:.1f} s ({folder / 'shop.db'})"
        )
        engine = make_engine(store_url)
        store.upgrade(engine)
        factory = make_sessionmaker(engine)
        stand_ins = StandIns()
        stand_ins.start()
        try:
            config = load_example(shop_url, store_url, stand_ins.channels())
            result = _play(console, config, factory, scenario, step, stand_ins)
            end = result.ended_at or DEFAULT_START + scenario.total
            _status_page(console, config, factory, folder, end, result, kept=workdir is not None)
        finally:
            stand_ins.stop()
            engine.dispose()
    result.elapsed_s = time.perf_counter() - began
    console.print(
        f"\n[dim]{result.evaluations} evaluations over "
        f"{_duration(scenario)} of virtual time in {result.elapsed_s:.1f} s[/]"
    )
    return result


def _duration(scenario: Scenario) -> str:
    total = scenario.total
    return f"{int(total.total_seconds() // 3600)} h {int(total.total_seconds() % 3600 // 60)} min"


def _play(
    console: Console,
    config: TocsinConfig,
    factory: object,
    scenario: Scenario,
    step: timedelta,
    stand_ins: StandIns,
) -> DemoResult:
    from sqlalchemy.orm import sessionmaker

    assert isinstance(factory, sessionmaker)
    sessions: sessionmaker[Session] = factory
    clock = VirtualClock(DEFAULT_START)
    notified: list[str] = []
    worker = Worker(
        config, sessions, clock, worker_id="demo", console_write=notified.append, threads=False
    )
    worker.start()
    narrative = sorted(scenario_events(scenario))
    result = DemoResult()
    seen_event = 0
    acked: set[int] = set()
    seen_incident = 0
    verified = False
    end = DEFAULT_START + scenario.total
    console.rule("[bold]Tocsin demo: a bad morning at the storefront (times in New York)")
    while clock.now() <= end:
        now = clock.now()
        while narrative and DEFAULT_START + narrative[0][0] <= now:
            _, text = narrative.pop(0)
            console.print(f"[dim]{_local(now)}[/]  [italic cyan]▸ {text}[/]")
        worker.tick()
        with session_scope(sessions) as session:
            rows = session.execute(
                select(AlertEvent, Alert)
                .join(Alert, Alert.id == AlertEvent.alert_id)
                .where(AlertEvent.id > seen_event)
                .order_by(AlertEvent.id)
            ).all()
            for event, alert in rows:
                seen_event = event.id
                if event.kind == "escalation_step" and not event.data.get("deliveries"):
                    continue  # the route already told everyone this step names
                _print_event(console, event, alert)
                result.events.append((event.at, alert.title, event.kind, str(event.severity)))
            # The on-call engineer acknowledges the CRITICAL payment alert after 4 minutes,
            # and declares a public incident: customers see it on the status page.
            for alert in session.scalars(
                select(Alert).where(
                    Alert.state == "firing", Alert.check_name == "payment_processing"
                )
            ):
                if alert.id not in acked and now - alert.started_at >= ACK_AFTER:
                    actions.alerts.acknowledge(
                        session,
                        worker.pipeline,
                        alert.id,
                        "ana (on call)",
                        now,
                        "checking Stripe webhooks",
                    )
                    acked.add(alert.id)
                    result.incident = _take_command(console, session, worker, alert.id, now)
            seen_incident = _incident_events(console, session, seen_incident)
        if result.incident is not None:
            with session_scope(sessions) as session:
                settled = _alerts_resolved(session, result.incident)
            if settled and not verified:
                # Orders flow again: ana verifies with the runbook before saying so.
                _verify(console, config, sessions, clock, result.incident)
                verified = True
            with session_scope(sessions) as session:
                _incident_news(console, session, worker, result.incident, now)
        for received in stand_ins.take():
            console.print(
                f"           [dim]→ {received.service}: {escape(received.summary)}[/]",
                highlight=False,
            )
            result.received[received.service] += 1
            result.notifications += 1
        notified.clear()
        clock.advance(step)
    worker.stop()
    _summary(console, config, sessions, result)
    _noise_act(console, config, sessions, clock, stand_ins, result)
    return result


def _verify(
    console: Console,
    config: TocsinConfig,
    sessions: sessionmaker[Session],
    clock: VirtualClock,
    incident: str,
) -> None:
    """ana runs the payment runbook's verification steps for the incident; their outputs land
    on its timeline, which is printed."""
    from tocsin.actions.runbooks import Selection
    from tocsin.incidents.models import IncidentEvent
    from tocsin.runbooks.service import catalog

    runbook = catalog(config.runbooks.path).get("payment-processing-failure")
    with session_scope(sessions) as session:
        actions.runbooks.request(
            session,
            config,
            runbook,
            Selection(verification=True),
            incident_id=incident,
            given={},
            by="ana (on call)",
            now=clock.now(),
        )
    actions.runbooks.run_due(sessions, config, clock, "demo")
    console.print(
        f"[dim]{_local(clock.now())}[/]  📋 ana runs the payment runbook's verification steps: "
        f"tocsin runbook exec payment-processing-failure --incident {incident} --verification",
        highlight=False,
    )
    with session_scope(sessions) as session:
        events = session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident, IncidentEvent.kind == "runbook_step")
            .order_by(IncidentEvent.id)
        ).all()
        for event in events:
            for line in (event.note or "").splitlines()[:4]:
                console.print(f"           [dim]{escape(line)}[/]", highlight=False)


STORM = 30  # failed Stripe webhooks, one every 3 s


def _noise_act(
    console: Console,
    config: TocsinConfig,
    sessions: sessionmaker[Session],
    clock: VirtualClock,
    stand_ins: StandIns,
    result: DemoResult,
) -> None:
    """Noise control (reference 000 §6.2.4): a storm of alerts becomes one grouped
    notification, and a maintenance window mutes a check but records it."""
    grouping = GroupingConfig(
        by=["service", "check"],
        group_wait=timedelta(minutes=2),  # the reference's two-minute window
        group_interval=timedelta(minutes=10),
        repeat_interval=timedelta(hours=4),
    )
    noisy = config.model_copy(update={"grouping": grouping, "checks": []})
    worker = Worker(noisy, sessions, clock, worker_id="demo-noise", threads=False)
    worker.start()
    console.rule("[bold]Noise control: a storm, grouped; a maintenance window")
    console.print(
        f"[dim]{_local(clock.now())}[/]  [italic cyan]▸ a bad deploy makes every Stripe webhook "
        f"fail its signature check: {STORM} alerts in {STORM * 3} s[/]"
    )
    for i in range(STORM):
        _raise(
            sessions,
            worker,
            clock,
            {"service": "payments", "check": "stripe_webhook", "order": str(4100 + i)},
            "Stripe webhook failed",
            f"order {4100 + i}: signature mismatch",
        )
        clock.advance(timedelta(seconds=3))
        worker.tick()
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        worker.tick()
    received = stand_ins.take()
    for item in received:
        console.print(
            f"           [dim]→ {item.service}: {escape(item.summary)}[/]", highlight=False
        )
    result.storm_notifications = len(received)
    console.print(
        f"{STORM} alerts → {len(received)} notifications "
        f"({', '.join(sorted({r.service for r in received}))}), one per channel for the group"
    )
    now = clock.now()
    with session_scope(sessions) as session:
        window = maintenance.create_window(
            session,
            "Stripe API upgrade",
            ["checkout"],
            now,
            now + timedelta(hours=1),
            "ana",
            now=now,
            description="Card payments may be slow for a few minutes.",
            public=True,
        )
    console.print(
        f"[dim]{_local(now)}[/]  [italic cyan]▸ ana opens a one-hour maintenance window for "
        "the checkout service (public: on the status page)[/]"
    )
    alert_id = _raise(
        sessions,
        worker,
        clock,
        {"service": "checkout", "check": "checkout_latency"},
        "Checkout latency high",
        "p95 4.2 s during the Stripe upgrade",
    )
    worker.tick()
    muted = stand_ins.take()
    with session_scope(sessions) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        why = explain(session, alert).get("summary", "")
        counted = session.get(MaintenanceWindow, window.id)
        result.muted_in_window = counted.suppressed_count if counted else 0
    console.print(
        f"[dim]{_local(clock.now())}[/]  🔕 Checkout latency high: recorded as alert "
        f"#{alert_id}, {len(muted)} notifications — {why}",
        highlight=False,
    )
    result.storm_notifications += len(muted)
    result.ended_at = clock.now()
    worker.stop()


def _take_command(
    console: Console, session: Session, worker: Worker, alert_id: int, now: datetime
) -> str | None:
    """The alert declared its incident by itself (the route's `incident: auto`): ana, on
    call, takes command and makes it public with a first update."""
    incident_id = session.scalar(
        select(IncidentAlert.incident_id).where(IncidentAlert.alert_id == alert_id)
    )
    if incident_id is None:
        return None
    pipeline = worker.pipeline
    incidents.assign(session, pipeline, incident_id, "commander", "ana", "ana", now)
    first = NewUpdate(
        "We are investigating failed card payments at checkout.",
        customer_impact="Orders cannot be paid by card",
        public=True,
    )
    actions.incidents.post_update(session, pipeline, incident_id, first, "ana", now)
    console.print(
        f"[dim]{_local(now)}[/]  [italic cyan]▸ ana takes command of {incident_id} and makes it "
        "public: it is on the status page[/]"
    )
    return incident_id


SHOWN = {"declared", "reminder_sent", "update_missed"}


def _incident_events(console: Console, session: Session, after: int) -> int:
    """Print the incidents' own events (declared, reminded, paged) since event `after`."""
    for event in session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.id > after, IncidentEvent.kind.in_(SHOWN))
        .order_by(IncidentEvent.id)
    ):
        after = event.id
        note = f": {event.note}" if event.note else ""
        console.print(
            f"[dim]{_local(event.at)}[/]  📋 {event.incident_id} {event.kind.replace('_', ' ')}"
            f"{escape(note)}",
            highlight=False,
        )
    return after


def _alerts_resolved(session: Session, incident_id: str) -> bool:
    """Every alert linked to the incident is resolved."""
    return all(
        a.state == "resolved"
        for a in session.scalars(
            select(Alert)
            .join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
            .where(IncidentAlert.incident_id == incident_id)
        )
    )


def _incident_news(
    console: Console, session: Session, worker: Worker, incident_id: str, now: datetime
) -> None:
    """The incident's public updates: identified once its missed update paged ana (she was
    busy on the fix and let the 15-minute cadence slip), resolved with its alert."""
    incident = incidents.get(session, incident_id)
    if incident.status == "investigating" and incident.page_alert_id is not None:
        said = "Stripe webhooks were rejected after a certificate rotation; rolling it back."
        news = NewUpdate(said, status="identified")
    elif incident.status in ("investigating", "identified") and _alerts_resolved(
        session, incident_id
    ):
        news = NewUpdate("Card payments work again; we are watching them.", status="resolved")
    else:
        return
    actions.incidents.post_update(session, worker.pipeline, incident_id, news, "ana", now)
    console.print(
        f"[dim]{_local(now)}[/]  [italic cyan]▸ status update on {incident_id}: "
        f"{news.status}: {news.message}[/]"
    )
    if news.status == "resolved":
        _postmortem(console, incidents.get(session, incident_id).postmortem or "")


def _postmortem(console: Console, text: str) -> None:
    """The post-mortem draft written at resolution: its figures and its exact timeline."""
    wanted = ("## How'd We Do", "## Timeline")
    lines = text.splitlines()
    console.print(f"           [bold]post-mortem draft written[/] ({len(lines)} lines):")
    for heading in wanted:
        at = lines.index(heading) if heading in lines else None
        if at is None:
            continue
        console.print(f"           [dim]{escape(heading)}[/]", highlight=False)
        for line in lines[at + 1 :]:
            if line.startswith("## ") or not line.strip():
                break
            console.print(f"           [dim]{escape(line)}[/]", highlight=False)


def _status_page(
    console: Console,
    config: TocsinConfig,
    sessions: sessionmaker[Session],
    folder: Path,
    now: datetime,
    result: DemoResult,
    *,
    kept: bool,
) -> None:
    """Export the status page as it stands at the end and print where the incident is."""
    page = config.public_url.rstrip("/") + "/status"
    with session_scope(sessions) as session:
        contents = export.files(session, config.status, page, DEFAULT_START, now)
    written = export.write(folder / "status", contents)
    anchor = f"#incident-{result.incident}" if result.incident else ""
    result.status_url = f"{page}{anchor}"
    where = (
        f"exported to {folder / 'status' / 'index.html'}"
        if kept
        else "exported to a temporary folder; --keep DIR keeps it"
    )
    console.print(
        f"status page: {result.status_url} ({where}, {len(written)} files; "
        "`tocsin run` serves it live at /status)",
        highlight=False,
    )


def _raise(
    sessions: sessionmaker[Session],
    worker: Worker,
    clock: VirtualClock,
    labels: dict[str, str],
    title: str,
    message: str,
) -> int:
    with session_scope(sessions) as session:
        new = NewAlert(
            fingerprint=fingerprint("demo", labels),
            origin="event",
            labels=labels,
            severity="HIGH",
            title=title,
            message=message,
        )
        alert, _ = actions.alerts.fire(session, worker.pipeline, new, clock.now())
        return alert.id


def _local(at: datetime) -> str:
    return at.astimezone(ZONE).strftime("%H:%M")


def _print_event(console: Console, event: AlertEvent, alert: Alert) -> None:
    style = STYLE.get(str(event.severity), "")
    what = event.kind.replace("_", " ")
    extra = f" — {event.note}" if event.note else ""
    by = f" by {event.actor}" if event.actor else ""
    console.print(
        f"[dim]{_local(event.at)}[/]  {ICON.get(event.kind, '•')} [{style}]{event.severity:<8}[/] "
        f"[bold]{what}{by}[/]  {alert.title}: {alert.message}{extra}",
        highlight=False,
    )


def _summary(console: Console, config: TocsinConfig, sessions: object, result: DemoResult) -> None:
    from sqlalchemy.orm import sessionmaker

    assert isinstance(sessions, sessionmaker)
    factory: sessionmaker[Session] = sessions
    per_check: dict[str, Counter[str]] = defaultdict(Counter)
    worst: dict[str, str] = {}
    with session_scope(factory) as session:
        for name, status in session.execute(select(Evaluation.check_name, Evaluation.status)):
            per_check[name][status] += 1
            result.evaluations += 1
        for alert in session.scalars(select(Alert)):
            name = str(alert.check_name)
            per_check[name]["alerts"] += 1
            result.alerts += 1
            if alert.state != "resolved":
                per_check[name]["open"] += 1
        for check_name, severity in session.execute(
            select(Alert.check_name, AlertEvent.severity).join(
                AlertEvent, AlertEvent.alert_id == Alert.id
            )
        ):
            if SEVERITY_RANK.get(str(severity), 9) < SEVERITY_RANK.get(
                worst.get(str(check_name), ""), 9
            ):
                worst[str(check_name)] = str(severity)
    table = Table(
        "check", "evaluations", "errors", "alerts", "worst", "still open", title="Summary"
    )
    for check in config.checks:
        c = per_check[check.name]
        sev = worst.get(check.name, "—")
        table.add_row(
            check.name,
            str(c["ok"] + c["error"] + c["inactive"]),
            str(c["error"]),
            str(c["alerts"]),
            f"[{STYLE.get(sev, '')}]{sev}[/]",
            str(c["open"]),
        )
    console.print(table)
    received = ", ".join(f"{service} {n}" for service, n in sorted(result.received.items()))
    console.print(
        f"{result.alerts} alerts; {result.notifications} notifications received by the"
        f" stand-ins ({received})"
    )
