"""The inbound parsers give exactly what the obvious reading of their models gives: the same
events (field for field, down to label order and time zones) or the same refusal, for valid,
odd and broken bodies alike, whether their caches are cold or warm."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest
from pydantic import TypeAdapter, ValidationError

from tocsin.fingerprint import fingerprint
from tocsin.inbound import alertmanager, events, pagerduty
from tocsin.inbound.schemas import BadInput, Inbound, severity_from

NOW = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)

# --- the obvious reading: validate into the models, then read each alert off its model ---

_POSTABLE = TypeAdapter(list[alertmanager.PostableAlert])
_WEBHOOK = TypeAdapter(alertmanager.WebhookPayload)


def obvious_postable(body: bytes, now: datetime, source: str | None) -> list[Inbound]:
    try:
        alerts = _POSTABLE.validate_json(body)
    except ValidationError as exc:
        raise BadInput.from_validation(exc, "alerts") from None
    obvious_times(alerts)
    out = []
    for alert in alerts:
        given = obvious_given(alert.endsAt)
        ends = given if given is not None else now + alertmanager.RESOLVE_TIMEOUT
        out.append(obvious_event(alert, "resolve" if ends <= now else "fire", ends, source))
    return out


def obvious_webhook(body: bytes, source: str | None) -> list[Inbound]:
    try:
        payload = _WEBHOOK.validate_json(body)
    except ValidationError as exc:
        raise BadInput.from_validation(exc) from None
    obvious_times(payload.alerts)
    return [
        obvious_event(a, "fire" if a.status == "firing" else "resolve", None, source)
        for a in payload.alerts
    ]


def obvious_times(alerts: Any) -> None:
    """A time past the year 9999 once in UTC is refused, naming each."""
    problems = []
    for i, alert in enumerate(alerts):
        for name in ("startsAt", "endsAt"):
            try:
                obvious_given(getattr(alert, name))
            except OverflowError:
                problems.append(f"alerts[{i}].{name}: is past the year 9999 once in UTC")
    if problems:
        raise BadInput(problems)


def obvious_event(
    alert: alertmanager.PostableAlert,
    action: Literal["fire", "resolve"],
    ends: datetime | None,
    source: str | None,
) -> Inbound:
    labels = dict(alert.labels)
    notes = alert.annotations
    details: dict[str, Any] = {"annotations": dict(notes)}
    if alert.generatorURL:
        details["generator_url"] = alert.generatorURL
    starts = obvious_given(alert.startsAt)
    if starts is not None:
        details["starts_at"] = starts.isoformat()
    title = notes.get("summary") or labels.get("alertname") or "alert from Alertmanager"
    message = notes.get("description") or notes.get("summary") or ""
    if len(title) > 300:
        message = message if title in message else f"{title}\n\n{message}" if message else title
        title = title[:299] + "…"
    return Inbound(
        action=action,
        origin="alertmanager",
        fingerprint=fingerprint("alertmanager", labels),
        labels=labels,
        severity=severity_from(labels.get("severity")),
        title=title,
        message=message,
        details=details,
        source=source,
        ends_at=ends,
    )


def obvious_given(value: datetime | None) -> datetime | None:
    if value is None or value.year <= 1:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def outcome(parse: Any, *args: Any) -> tuple[str, Any]:
    """What a parser made of a body: its events (with their reprs, which show label order
    and time zones), its problems, or the exception it raised."""
    try:
        batch = parse(*args)
    except BadInput as exc:
        return "refused", exc.problems
    except Exception as exc:  # noqa: BLE001 - the oracle's own crash must be matched too
        return "raised", (type(exc), str(exc))
    return "parsed", (batch, [repr(e) for e in batch])


# --- bodies: odd, broken and ordinary, drawn from pools with a fixed seed ---

TIMES: list[Any] = [
    "2026-11-17T13:50:00Z",
    "2026-11-17T13:50:00.123456Z",
    "2026-11-17T13:50:00.123456789Z",  # Go's nanoseconds
    "2026-11-17T20:50:00+07:00",
    "2026-11-17T08:50:00-05:00",
    "2026-11-17T13:50:00",  # naive: UTC
    "2026-11-17 13:50:00Z",
    "2026-11-17",
    "2026-11-17T14:10:00Z",  # ahead of NOW
    "2026-11-17T14:00:00Z",  # NOW itself
    "2026-11-17T13:59:59.999999Z",  # just past
    "2025-01-01T00:00:00Z",  # long past
    "0001-01-01T00:00:00Z",  # Go's zero time
    "0001-01-01T00:00:00",
    "0001-01-01T05:00:00+05:00",
    "0001-12-31T23:00:00-02:00",  # year 1 where sent, year 2 in UTC
    "0002-01-01T01:00:00Z",
    "9999-12-31T23:59:59-05:00",  # past year 9999 in UTC
    "9999-12-31T23:59:59Z",
    "1700000000",
    1700000000,
    1763387400.5,
    0,
    -1,
    10**30,
    True,
    None,
    "",
    "not a time",
    "2026-13-01T00:00:00Z",
    "2026-11-17T25:00:00Z",
    " 2026-11-17T13:50:00Z",
    "2026-11-17T13:50:00Z\n",
    [],
    {},
]
NAMES = ["alertname", "severity", "job", "instance", "_x", "A9_b", "__name__", "x" * 200]
BAD_NAMES = ["9lives", "bad-name", "", "ümlaut", "a\n", "x" * 201, "a b"]
VALUES: list[Any] = ["api", "", "db-1:9100", "ünïcode ✓", "x" * 10_000, " spaced "]
BAD_VALUES: list[Any] = [1, None, True, ["a"], {"a": "b"}, "x" * 10_001]
SEVERITIES = [
    *("critical", "page", "p1", "error", "high", "major", "p2", "warning", "warn", "minor"),
    *("p3", "info", "informational", "low", "p4", "p5", "CRITICAL", " Page ", "P1\n"),
    *("disaster", "", "none"),
]
NOTES = ["summary", "description", "runbook_url", "value"]
URLS: list[Any] = ["http://prometheus:9090/graph?g0.expr=up", "", None, 5]


def labels_of(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice([{}, None, "a=b", ["a"], 5])
    out: dict[str, Any] = {}
    for _ in range(rng.randint(1, 6)):
        out[rng.choice(NAMES)] = rng.choice(VALUES[:4])
    if rng.random() < 0.6:
        out["severity"] = rng.choice(SEVERITIES)
    if rng.random() < 0.05:
        out[rng.choice(BAD_NAMES)] = "x"
    if rng.random() < 0.04:
        out[rng.choice(NAMES)] = rng.choice(BAD_VALUES + VALUES[4:])
    keys = list(out)
    rng.shuffle(keys)  # the same set in another order is the same alert
    return {k: out[k] for k in keys}


def notes_of(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice([None, "x", [], 3])
    out: dict[str, Any] = {}
    for name in NOTES:
        if rng.random() < 0.5:
            out[name] = rng.choice(["disk full on db-1", "", "x" * 400, "ü"])
    if rng.random() < 0.03:
        out[rng.choice(BAD_NAMES)] = "x"
    if rng.random() < 0.03:
        out["summary"] = rng.choice(BAD_VALUES)
    return out


def alert_of(rng: random.Random, webhook: bool) -> Any:
    if rng.random() < 0.01:
        return rng.choice(["alert", 5, None, [], True])
    alert: dict[str, Any] = {}
    if rng.random() < 0.98:
        alert["labels"] = labels_of(rng)
    if rng.random() < 0.8:
        alert["annotations"] = notes_of(rng)
    for name in ("startsAt", "endsAt"):
        if rng.random() < 0.8:
            alert[name] = rng.choice(TIMES[:20]) if rng.random() < 0.9 else rng.choice(TIMES)
    if rng.random() < 0.7:
        alert["generatorURL"] = rng.choice(URLS[:2]) if rng.random() < 0.95 else rng.choice(URLS)
    if rng.random() < 0.1:
        alert["extra"] = {"anything": [1, 2]}
    if webhook:
        if rng.random() < 0.98:
            alert["status"] = rng.choice(["firing", "resolved"]) if rng.random() < 0.97 else "?"
        if rng.random() < 0.7:
            alert["fingerprint"] = (
                rng.choice(["c6a1b2c3d4e5f607", ""]) if rng.random() < 0.97 else 7
            )
    return alert


def batch_of(rng: random.Random, webhook: bool) -> list[Any]:
    alerts = [alert_of(rng, webhook) for _ in range(rng.randint(0, 6))]
    if alerts and rng.random() < 0.2:
        twin = json.loads(json.dumps(alerts[0]))  # a duplicate fingerprint in one batch
        if isinstance(twin, dict) and isinstance(twin.get("labels"), dict):
            twin["labels"] = dict(reversed(list(twin["labels"].items())))
        alerts.append(twin)
    return alerts


def payload_of(rng: random.Random) -> Any:
    payload: dict[str, Any] = {
        "version": "4" if rng.random() < 0.95 else rng.choice([4, "3", None]),
        "status": rng.choice(["firing", "resolved"]) if rng.random() < 0.97 else "pending",
        "groupLabels": {"alertname": "DiskFull"},
        "truncatedAlerts": 0,
        "alerts": batch_of(rng, webhook=True),
    }
    for name in ("receiver", "groupKey", "externalURL"):
        if rng.random() < 0.8:
            payload[name] = "x" if rng.random() < 0.97 else rng.choice([1, None, []])
    if rng.random() < 0.02:
        del payload[rng.choice(["version", "status", "alerts"])]
    return payload


ODD_BODIES = [b"", b"[", b"[{", b"{}", b"null", b'"x"', b"[]", b"[[]]", b"[null]", b"\xff"]


def test_postable_alerts_parse_as_the_models_read_them() -> None:
    rng = random.Random(20261117)
    bodies = [json.dumps(batch_of(rng, webhook=False)).encode() for _ in range(3000)]
    for body in ODD_BODIES + bodies:
        for now in (NOW, NOW - timedelta(days=400)):
            expected = outcome(obvious_postable, body, now, "prometheus")
            for _cold_then_warm in range(2):
                assert outcome(alertmanager.parse_postable, body, now, "prometheus") == expected


def test_webhook_payloads_parse_as_the_models_read_them() -> None:
    rng = random.Random(4)
    bodies = [json.dumps(payload_of(rng)).encode() for _ in range(3000)]
    for body in ODD_BODIES + bodies:
        expected = outcome(obvious_webhook, body, "am")
        for _cold_then_warm in range(2):
            assert outcome(alertmanager.parse_webhook, body, "am") == expected


def test_the_draws_cover_parsed_and_refused_bodies_and_none_raise() -> None:
    rng = random.Random(20261117)
    seen = {outcome(obvious_postable, json.dumps(batch_of(rng, False)).encode(), NOW, None)[0]}
    for _ in range(3000):
        seen.add(outcome(obvious_postable, json.dumps(batch_of(rng, False)).encode(), NOW, None)[0])
    assert seen == {"parsed", "refused"}


@pytest.mark.parametrize(
    ("alert", "ends_at", "details"),
    [
        (  # no times: open for the resolve timeout, no start recorded
            {"labels": {"alertname": "Up"}},
            NOW + timedelta(minutes=5),
            {"annotations": {}},
        ),
        (  # Go's zero time is no time
            {
                "labels": {"a": "b"},
                "startsAt": "0001-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
            },
            NOW + timedelta(minutes=5),
            {"annotations": {}},
        ),
        (  # a naive time is UTC; an offset is moved to UTC
            {
                "labels": {"a": "b"},
                "startsAt": "2026-11-17T13:00:00",
                "endsAt": "2026-11-17T09:30:00-05:00",
            },
            datetime(2026, 11, 17, 14, 30, tzinfo=UTC),
            {"annotations": {}, "starts_at": "2026-11-17T13:00:00+00:00"},
        ),
    ],
)
def test_times_are_read_as_alertmanager_reads_them(
    alert: dict[str, Any], ends_at: datetime, details: dict[str, Any]
) -> None:
    (event,) = alertmanager.parse_postable(json.dumps([alert]).encode(), NOW, None)
    assert event.ends_at == ends_at
    assert event.ends_at.tzinfo is UTC
    assert event.details == details


def test_an_alert_ending_in_the_past_resolves_and_bad_fields_are_named() -> None:
    body = [{"labels": {"a": "b"}, "endsAt": "2026-11-17T13:00:00Z"}]
    (event,) = alertmanager.parse_postable(json.dumps(body).encode(), NOW, None)
    assert event.action == "resolve"
    body.append({"labels": {"bad-name": "x"}, "startsAt": "soon"})
    with pytest.raises(BadInput) as refused:
        alertmanager.parse_postable(json.dumps(body).encode(), NOW, None)
    assert [p.split(":")[0] for p in refused.value.problems] == [
        "alerts[1].labels.bad-name.[key]",
        "alerts[1].startsAt",
    ]


def test_plain_events_and_pagerduty_events_keep_their_fingerprints() -> None:
    # The digests stored alerts are matched by: they must never change.
    body = {"events": [{"labels": {"service": "db", "env": "prod"}, "title": "x"}]}
    (event,) = events.parse(json.dumps(body).encode(), "script")
    assert event.fingerprint == "41ba8a441beb2f6768b895154e717b9f"
    trigger = {
        "routing_key": "k",
        "event_action": "trigger",
        "dedup_key": "disk-1",
        "payload": {"summary": "disk", "source": "db-1", "severity": "error"},
    }
    item = pagerduty.to_inbound(pagerduty.parse(json.dumps(trigger).encode()), "pd")
    assert item.fingerprint == "be2c1d7292ba0d9806c91478ff886f16"
    (alert,) = alertmanager.parse_postable(b'[{"labels": {"b": "2", "a": "1"}}]', NOW, None)
    assert alert.fingerprint == fingerprint("alertmanager", {"a": "1", "b": "2"})
    assert alert.fingerprint == "b5344e156f390d93cd2c20d5258d1d73"
