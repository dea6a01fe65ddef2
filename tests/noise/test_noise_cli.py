"""The noise commands as a user runs them: exit codes, messages, JSON, nothing written on
bad input; `alerts show` says why nobody was paged; `alerts ack --noise` feeds the stats."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import Desk, noise_config
from typer.testing import CliRunner

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.noise import silences

runner = CliRunner()


@pytest.fixture
def cfg(tmp_path: Path, store_url: str) -> str:
    path = tmp_path / "tocsin.yaml"
    path.write_text(f'store: {{url: "{store_url}"}}\nchannels:\n  console: {{type: console}}\n')
    return str(path)


def invoke(*args: str) -> tuple[int, str]:
    from tocsin.cli import app

    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def listed(cfg: str, noun: str, *extra: str) -> list[dict[str, object]]:
    code, out = invoke(noun, "list", "--json", "-c", cfg, *extra)
    assert code == 0, out
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def test_silence_add_list_expire(cfg: str) -> None:
    code, out = invoke(
        "silence",
        "add",
        'service="payments"',
        "env=~prod|eu",
        "--for",
        "2h",
        "--comment",
        "Stripe upgrade",
        "--by",
        "ana",
        "-c",
        cfg,
    )
    assert code == 0, out
    sid = out.strip()
    assert str(uuid.UUID(sid)) == sid  # amtool expects UUIDs
    (row,) = listed(cfg, "silence")
    assert row["matchers"] == ['service="payments"', 'env=~"prod|eu"']  # as the API has them
    assert (row["status"], row["created_by"], row["comment"]) == ("active", "ana", "Stripe upgrade")
    assert invoke("silence", "expire", sid, "-c", cfg) == (0, f"silence {sid} expired\n")
    assert listed(cfg, "silence") == []
    assert [r["status"] for r in listed(cfg, "silence", "--all")] == ["expired"]
    code, out = invoke("silence", "expire", sid, "-c", cfg)
    assert code == 1
    assert "already ended" in out
    code, out = invoke("silence", "expire", "nope", "-c", cfg)
    assert (code, "silence nope does not exist" in out) == (1, True)


def test_a_recurring_silence_is_listed_with_its_schedule(cfg: str) -> None:
    code, out = invoke(
        "silence",
        "add",
        "check=backup",
        "--every",
        "0 2 * * sun",
        "--duration",
        "2h",
        "--timezone",
        "Europe/Paris",
        "--comment",
        "weekly backup",
        "-c",
        cfg,
    )
    assert code == 0, out
    (row,) = listed(cfg, "silence")
    assert (row["every"], row["duration_seconds"], row["timezone"]) == (
        "0 2 * * sun",
        7200,
        "Europe/Paris",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["service=~(", "--for", "1h", "--comment", "x"], "bad regular expression"),
        (["team=~.*", "--for", "1h", "--comment", "x"], "would mute all"),
        (["a=b", "--comment", "x"], "give one of --for"),
        (["a=b", "--for", "soon", "--comment", "x"], "not a duration"),
        (["a=b", "--until", "2026-11-22T04:00", "--comment", "x"], "has no time zone"),
        (["a=b", "--until", "2000-01-01T00:00Z", "--comment", "x"], "must be after the start"),
        (
            [
                "a=b",
                "--start",
                "1999-01-01T00:00Z",
                "--until",
                "2000-01-01T00:00Z",
                "--comment",
                "x",
            ],
            "in the past",
        ),
        (["a=b", "--for", "1h", "--every", "0 2 * * sun", "--comment", "x"], "go together"),
        (["a=b", "--for", "1h", "--comment", " "], "needs a comment"),
    ],
)
def test_bad_silences_are_refused_and_nothing_is_written(
    cfg: str, args: list[str], message: str
) -> None:
    code, out = invoke("silence", "add", *args, "-c", cfg)
    assert code == 1, out
    assert message in out
    assert listed(cfg, "silence", "--all") == []


def test_maintenance_add_list_end(cfg: str) -> None:
    code, out = invoke(
        "maintenance",
        "add",
        "--title",
        "Database migration",
        "--services",
        "payments, orders",
        "--start",
        "2099-01-01T02:00Z",
        "--end",
        "2099-01-01T04:00Z",
        "--by",
        "ana",
        "-c",
        cfg,
    )
    assert code == 0, out
    wid = out.strip()
    (row,) = listed(cfg, "maintenance")
    assert (row["services"], row["status"]) == (["orders", "payments"], "pending")
    assert row["next_start"] == "2099-01-01T02:00:00Z"
    assert invoke("maintenance", "end", wid, "-c", cfg)[0] == 0
    assert listed(cfg, "maintenance") == []
    code, out = invoke(
        "maintenance", "add", "--title", "x", "--services", " ", "--for", "1h", "-c", cfg
    )
    assert (code, "at least one affected service" in out) == (1, True)
    assert len(listed(cfg, "maintenance", "--all")) == 1


def test_known_issue_add_list_expire(cfg: str) -> None:
    code, out = invoke(
        "known-issue",
        "add",
        "PRINT-2025-11-16-001",
        "--match",
        'service="printful_api"',
        "--contains",
        "timeout",
        "--reason",
        "Printful degraded",
        "-c",
        cfg,
    )
    assert code == 0, out
    (row,) = listed(cfg, "known-issue")
    assert (row["matchers"], row["message_contains"]) == (['service="printful_api"'], "timeout")
    assert (row["suppressed"], row["origin"]) == (0, "cli")
    code, out = invoke("known-issue", "add", "K-2", "--reason", "no pattern", "-c", cfg)
    assert (code, "needs a pattern" in out) == (1, True)
    assert invoke("known-issue", "expire", "PRINT-2025-11-16-001", "-c", cfg)[0] == 0
    assert listed(cfg, "known-issue") == []


def test_alerts_show_says_why_nobody_was_paged_and_ack_noise_is_counted(
    cfg: str, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    desk = Desk(factory, clock, noise_config())
    now = clock.now()
    with session_scope(factory) as s:
        sid = silences.create_silence(
            s, ['check="orders"'], now, now + timedelta(hours=1), "ana", "deploy", now=now
        ).id
    muted = desk.fire("orders")
    told = desk.fire("payments")
    code, out = invoke("alerts", "show", str(muted), "-c", cfg)
    assert code == 0, out
    assert f"paging: not notified: silenced by ana: deploy (silence {sid})" in out
    code, out = invoke("alerts", "show", str(told), "--json", "-c", cfg)
    assert json.loads(out)["noise"]["summary"] == "notified on console, pager"
    code, out = invoke("alerts", "ack", str(told), "--by", "bob", "--noise", "-c", cfg)
    assert (code, out) == (0, f"alert {told} acknowledged by bob and marked as noise\n")
    code, out = invoke("stats", "noise", "--since", "3650d", "--json", "-c", cfg)
    overall, *per_check = json.loads(out)
    assert overall["check"] == "(all)"
    assert (overall["alerts"], overall["marked_noise"], overall["acknowledged"]) == (2, 1, 1)
    assert overall["suppressed"] == {"silence": 1}
    assert overall["noise_ratio"] == 0.5
    assert [f["check"] for f in per_check] == ["orders", "payments"]
    code, out = invoke("stats", "noise", "--since", "3650d", "-c", cfg)
    assert code == 0
    assert "alert fatigue" in out


def test_alerts_show_of_an_alert_silenced_after_it_was_told_says_it_was_notified(
    cfg: str, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    desk = Desk(factory, clock, noise_config())
    told = desk.fire("orders")
    now = clock.now()
    with session_scope(factory) as s:
        sid = silences.create_silence(
            s, ['check="orders"'], now, now + timedelta(hours=1), "ana", "deploy", now=now
        ).id
    desk.step(timedelta(seconds=1))
    code, out = invoke("alerts", "show", str(told), "-c", cfg)
    assert code == 0, out
    assert (
        "paging: notified on console, pager before the silence began; muted since: "
        f"silenced by ana: deploy (silence {sid})"
    ) in out
    assert "not notified" not in out
