"""A component's status from the alerts driving it, and the page's overall indicator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.support.status import status_config

from tocsin.config.status import DEFAULT_IMPACT, ComponentConfig, slug
from tocsin.errors import ConfigError
from tocsin.statuspage.components import Driven, OpenAlert, drives, indicator, status_of

START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
API = ComponentConfig(name="Public API", services=["api"], checks=["api-latency"])


def alert(severity: str, **where: str) -> OpenAlert:
    service = where.get("service")
    return OpenAlert(
        severity=severity,
        labels={"service": service} if service else {},
        check_name=where.get("check"),
        heartbeat=where.get("heartbeat"),
        started_at=START,
    )


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("CRITICAL", "major_outage"),
        ("HIGH", "partial_outage"),
        ("WARNING", "degraded_performance"),
        ("INFO", "operational"),
    ],
)
def test_a_severity_sets_its_status(severity: str, expected: str) -> None:
    assert status_of(API, [alert(severity, service="api")], DEFAULT_IMPACT) == expected


def test_the_worst_alert_wins_and_others_components_alerts_do_not_count() -> None:
    alerts = [
        alert("WARNING", check="api-latency"),
        alert("HIGH", service="api"),
        alert("CRITICAL", service="web"),
    ]
    assert status_of(API, alerts, DEFAULT_IMPACT) == "partial_outage"


def test_the_look_up_agrees_with_drives() -> None:
    web = ComponentConfig(name="Web", services=["web"], heartbeats=["backup"])
    driven = Driven([API, web])
    alerts = [
        alert("HIGH", service="api"),
        alert("HIGH", check="api-latency", service="web"),
        alert("HIGH", heartbeat="backup"),
        alert("HIGH", service="other"),
    ]
    for a in alerts:
        assert driven(a) == {c.id for c in (API, web) if drives(c, a)}
    assert driven(alerts[1]) == {"public-api", "web"}


def test_which_severities_count_is_configurable() -> None:
    impact = {"CRITICAL": "partial_outage"}
    assert status_of(API, [alert("HIGH", service="api")], impact) == "operational"
    assert status_of(API, [alert("CRITICAL", service="api")], impact) == "partial_outage"


def test_maintenance_and_a_declared_impact_override_alerts() -> None:
    alerts = [alert("CRITICAL", service="api")]
    assert status_of(API, alerts, DEFAULT_IMPACT, maintained=True) == "under_maintenance"
    declared = "degraded_performance"
    assert status_of(API, alerts, DEFAULT_IMPACT, maintained=True, declared=declared) == declared


def test_the_indicator_follows_the_worst_component() -> None:
    assert indicator([]) == ("none", "All Systems Operational")
    assert indicator(["operational", "under_maintenance"])[0] == "maintenance"
    assert indicator(["degraded_performance", "under_maintenance"])[0] == "minor"
    assert indicator(["partial_outage", "degraded_performance"])[0] == "major"
    assert indicator(["major_outage", "operational"]) == ("critical", "Major System Outage")


def test_components_get_ids_from_their_names_and_must_be_distinct() -> None:
    assert slug("Payments API (EU)") == "payments-api-eu"
    config = status_config()
    assert [c.id for c in config.status.components] == ["website", "checkout", "backups", "search"]
    with pytest.raises(ConfigError, match="both named like 'website'"):
        status_config("    - {name: website}\n")
