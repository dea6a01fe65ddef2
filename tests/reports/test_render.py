"""Reports rendered and posted: Markdown split within Discord's and Slack's published limits
and received whole by loopback receivers; an HTML email through a real SMTP server; parts
that keep code blocks balanced; every value escaped in HTML."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Loopback
from tests.support.reports import report_config
from tests.support.shop import ValueTable
from tests.support.smtp import MakeServer

from tocsin.clock import VirtualClock
from tocsin.reports.build import Report, Section
from tocsin.reports.render import FENCE, markdown, render_html, split
from tocsin.worker.loop import Worker

NINE_NY = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
ROWS = 150  # a table far longer than one Discord or Slack message


@pytest.fixture
def shop(tmp_path: Path) -> ValueTable:
    table = ValueTable(tmp_path / "shop.db")
    for i in range(ROWS):
        table.set(f"provider_{i:03d}_error_rate_over_the_night", i / 10)
    return table


@pytest.fixture
def receivers() -> Iterator[tuple[Loopback, Loopback]]:
    discord, slack = Loopback(), Loopback()
    yield discord, slack
    discord.stop()
    slack.stop()


def big_report() -> Report:
    rows = [{"name": f"row {i}", "value": i, "note": "x" * 50} for i in range(400)]
    return Report(
        "daily",
        "Daily <health> check",
        NINE_NY,
        [
            Section("Orders & payments", "query", "CRITICAL", ["name", "value", "note"], rows),
            Section("Empty", "query", "ok"),
            Section("Broken", "query", "ok", error="the source is read-only: <drop table>"),
        ],
        mention="@oncall",
        zone="America/New_York",
    )


@pytest.mark.parametrize("limit", [300, 2000, 2900, 4096])
def test_split_parts_fit_and_keep_code_blocks_balanced(limit: int) -> None:
    text = markdown(big_report())
    parts = split(text, limit)
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= limit
        assert sum(1 for line in part.splitlines() if line.startswith(FENCE)) % 2 == 0
    rows = [line for part in parts for line in part.splitlines() if line.startswith("row ")]
    assert len(rows) == len(set(rows)) == 400, "every row is in exactly one part"


def test_a_line_longer_than_a_part_is_cut_across_parts() -> None:
    text = "# title\n\n" + "y" * 1000
    parts = split(text, 300)
    assert all(len(p) <= 300 for p in parts)
    assert "".join(p for p in parts if p.startswith("y")) == "y" * 1000


def test_html_escapes_every_value() -> None:
    page = render_html(big_report())
    assert "<drop table>" not in page
    assert "&lt;drop table&gt;" in page
    assert "Daily &lt;health&gt; check" in page
    assert "Orders &amp; payments" in page
    assert "@oncall" in page


def test_a_long_report_reaches_discord_and_slack_within_their_limits(
    factory: sessionmaker[Session],
    clock: VirtualClock,
    shop: ValueTable,
    receivers: tuple[Loopback, Loopback],
) -> None:
    discord, slack = receivers
    discord.answer.status = 204
    config = report_config(
        shop.url,
        channels=f"""
  discord: {{type: discord, url: "{discord.url}/hook"}}
  slack: {{type: slack, url: "{slack.url}/hook"}}""",
        report_channels="[discord, slack]",
        mention="{discord: '<@&123456789012345678>', slack: '<!subteam^S0123ABC>'}",
    )
    clock.set(NINE_NY - timedelta(minutes=1))
    worker = Worker(config, factory, clock, worker_id="w1", threads=False)
    worker.start()
    clock.advance(timedelta(minutes=1))
    assert worker.run_due_reports() == 1
    while worker.send_due_notifications():
        pass
    discord_bodies = [json.loads(r.body) for r in discord.requests]
    slack_bodies = [json.loads(r.body) for r in slack.requests]
    assert len(discord_bodies) > 1
    assert len(slack_bodies) > 1
    for body in discord_bodies:
        (embed,) = body["embeds"]
        assert len(body["content"]) <= 2000
        assert len(embed["title"]) <= 256
        assert len(embed["description"]) <= 4096
        assert (
            len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"]) <= 6000
        )
        assert not embed["description"].endswith("…"), "a part was cut, not split"
    for body in slack_bodies:
        assert len(body["text"]) <= 4000
        for block in body["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
                assert not block["text"]["text"].endswith("…"), "a part was cut, not split"
    # The value is CRITICAL past 10: the first part mentions the group, the others do not.
    firsts = [
        b for b in discord_bodies if b["embeds"][0]["title"].endswith(f"(1/{len(discord_bodies)})")
    ]
    assert [b["content"] for b in firsts] == ["<@&123456789012345678>"]
    assert firsts[0]["allowed_mentions"] == {"parse": [], "roles": ["123456789012345678"]}
    assert sum(1 for b in discord_bodies if b["content"]) == 1
    mentioned = [b for b in slack_bodies if "<!subteam^S0123ABC>" in b["blocks"][1]["text"]["text"]]
    assert len(mentioned) == 1
    received = "\n".join(b["embeds"][0]["description"] for b in discord_bodies)
    for i in range(ROWS):
        assert f"provider_{i:03d}_error_rate_over_the_night" in received


def test_an_email_carries_the_html_report(
    factory: sessionmaker[Session],
    clock: VirtualClock,
    shop: ValueTable,
    make_server: MakeServer,
) -> None:
    server = make_server()
    config = report_config(
        shop.url,
        channels=f"""
  mail: {{type: email, host: 127.0.0.1, port: {server.port}, security: none,
          from_address: tocsin@example.com, to: [ops@example.com]}}""",
        report_channels="[mail]",
    )
    clock.set(NINE_NY - timedelta(minutes=1))
    worker = Worker(config, factory, clock, worker_id="w1", threads=False)
    worker.start()
    clock.advance(timedelta(minutes=1))
    worker.run_due_reports()
    while worker.send_due_notifications():
        pass
    (mail,) = server.recorder.mails()
    assert mail["Subject"] == "[Tocsin] Daily health check — Tue 2026-11-17 09:00 EST"
    html = mail.get_body(("html",))
    assert html is not None
    page = html.get_content()
    assert "<table" in page
    assert "provider_149_error_rate_over_the_night" in page
    assert "needs attention" in page
    plain = mail.get_body(("plain",))
    assert plain is not None
    assert "```" in plain.get_content()
