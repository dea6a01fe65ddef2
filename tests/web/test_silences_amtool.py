"""Debian's amtool against Tocsin on loopback: add, query and expire a silence, and see the
alert it mutes as suppressed. Skipped only when the binary is missing."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.peers import serving
from tests.support.web import api_config, make_token

from tocsin.alerts import service as alerts
from tocsin.alerts.service import NewAlert
from tocsin.clock import SystemClock, VirtualClock
from tocsin.db import session_scope
from tocsin.noise.models import Silence
from tocsin.web.deps import Settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed"),
]


def run_amtool(base: str, *args: str) -> str:
    done = subprocess.run(
        ["amtool", f"--alertmanager.url={base}", *args],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_amtool_adds_queries_and_expires_a_silence_that_mutes_an_alert(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    token = make_token(factory, clock, "amtool", "ingest,write")
    with serving(Settings(api_config(), factory, SystemClock())) as url:
        base = url.replace("http://", f"http://amtool:{token}@")

        def amtool(*args: str) -> str:
            return run_amtool(base, *args)

        def query_json(*args: str) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = json.loads(amtool(*args, "-o", "json"))
            return found

        sid = amtool(
            "silence", "add", "alertname=DiskFull", "host=~db.*",
            "--comment=disk swap on db1", "--duration=1h", "--author=ana",
        ).strip()  # fmt: skip
        (silence,) = query_json("silence", "query")
        assert silence["id"] == sid
        assert silence["status"] == {"state": "active"}
        assert (silence["createdBy"], silence["comment"]) == ("ana", "disk swap on db1")
        assert sorted((m["name"], m["value"], m["isRegex"]) for m in silence["matchers"]) == [
            ("alertname", "DiskFull", False),
            ("host", "db.*", True),
        ]
        assert amtool("silence", "query", "-q", "alertname=DiskFull").split() == [sid]
        assert amtool("silence", "query", "-q", "alertname=Other").split() == []
        # an active silence given a new comment and end keeps its id, as in Alertmanager
        assert amtool("silence", "update", "-q", "--comment=longer swap", "--duration=2h", sid)
        assert amtool("silence", "query", "-q").split() == [sid]
        assert query_json("silence", "query")[0]["comment"] == "longer swap"

        amtool("alert", "add", "DiskFull", "host=db1", "--annotation=summary=disk full on db1")
        amtool("alert", "add", "CpuHigh", "host=db1")
        shown = query_json("alert", "query")  # amtool's default: active alerts only
        assert [a["labels"]["alertname"] for a in shown] == ["CpuHigh"]
        (muted,) = query_json("alert", "query", "--silenced")
        assert muted["labels"]["alertname"] == "DiskFull"
        assert muted["status"]["state"] == "suppressed"
        assert muted["status"]["silencedBy"] == [sid]

        amtool("silence", "expire", sid)
        assert query_json("silence", "query") == []
        (expired,) = query_json("silence", "query", "--expired")
        assert (expired["id"], expired["status"]["state"]) == (sid, "expired")
        shown = query_json("alert", "query")
        assert sorted(a["labels"]["alertname"] for a in shown) == ["CpuHigh", "DiskFull"]
        assert all(a["status"]["state"] == "active" for a in shown)
    with session_scope(factory) as session:
        row = session.get(Silence, sid)
        assert row is not None
        assert row.suppressed_count == 1


def test_amtool_sees_an_alert_firing_before_its_silence_as_silenced_at_once(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    token = make_token(factory, clock, "amtool", "ingest,write")
    with serving(Settings(api_config(), factory, SystemClock())) as url:
        base = url.replace("http://", f"http://amtool:{token}@")

        def amtool(*args: str) -> str:
            return run_amtool(base, *args)

        def names(*args: str) -> list[str]:
            shown = json.loads(amtool("alert", "query", *args, "-o", "json"))
            return sorted(a["labels"]["alertname"] for a in shown)

        amtool("alert", "add", "DiskFull", "host=db1")
        amtool("alert", "add", "CpuHigh", "host=db1")
        assert names() == ["CpuHigh", "DiskFull"]
        sid = amtool("silence", "add", "alertname=DiskFull", "--comment=swap", "--author=ana")
        assert names() == ["CpuHigh"]  # amtool's default leaves silenced alerts out
        (muted,) = json.loads(amtool("alert", "query", "--silenced", "-o", "json"))
        assert muted["status"]["silencedBy"] == [sid.strip()]
        amtool("silence", "expire", sid.strip())
        assert names() == ["CpuHigh", "DiskFull"]


def test_amtool_expires_an_expired_silence_again_and_prints_tocsins_refusals(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    token = make_token(factory, clock, "amtool", "ingest,write")
    with serving(Settings(api_config(), factory, SystemClock())) as url:
        base = url.replace("http://", f"http://amtool:{token}@")
        sid = run_amtool(base, "silence", "add", "alertname=DiskFull", "--comment=swap").strip()
        run_amtool(base, "silence", "expire", sid)
        run_amtool(base, "silence", "expire", sid)  # exits 0, as against an Alertmanager
        refused = subprocess.run(
            ["amtool", f"--alertmanager.url={base}", "silence", "add", "alertname=DiskFull",
             "--comment=late", "--start=2020-01-01T00:00:00Z", "--end=2020-01-02T00:00:00Z"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert refused.returncode == 1
        # amtool prints Alertmanager's error body, a JSON string: Tocsin's reads as well
        assert "end time can't be in the past" in refused.stderr


def test_amtool_sees_and_filters_a_check_alert_by_every_label_a_silence_matches_on(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    now = SystemClock().now()
    with session_scope(factory) as session:
        alerts.fire(
            session,
            NewAlert(
                fingerprint="f" * 16,
                origin="check",
                check_name="queue_depth",
                labels={"queue": "orders"},
                severity="HIGH",
                title="Queue depth (orders)",
                message="",
            ),
            now,
        )
    token = make_token(factory, clock, "amtool", "ingest,write")
    with serving(Settings(api_config(), factory, SystemClock())) as url:
        base = url.replace("http://", f"http://amtool:{token}@")

        def query(*args: str) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = json.loads(
                run_amtool(base, "alert", "query", *args, "-o", "json")
            )
            return found

        (shown,) = query("check=queue_depth")
        assert shown["labels"] == {
            "queue": "orders",
            "check": "queue_depth",
            "alertname": "queue_depth",
            "severity": "HIGH",
        }
        assert [a["labels"]["queue"] for a in query("alertname=queue_depth", "severity=HIGH")] == [
            "orders"
        ]
        assert query("check=other") == []
        # amtool's table fills its Alertname column from the label
        assert "queue_depth" in run_amtool(base, "alert", "query")
        sid = run_amtool(base, "silence", "add", "check=queue_depth", "--comment=known").strip()
        (muted,) = query("--silenced", "check=queue_depth")
        assert muted["status"]["silencedBy"] == [sid]
