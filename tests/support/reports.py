"""Configuration text for report tests: a source with `metric(name, value)` rows, a report
over it with thresholds, and Tocsin's own figures."""

from __future__ import annotations

from tocsin.config import TocsinConfig, parse


def report_config(
    source_url: str,
    *,
    channels: str = "console: {type: console}",
    report_channels: str = "[console]",
    cron: str = "0 9 * * *",
    mention: str = "'@oncall'",
    reports: int = 1,
    extra: str = "",
    lease: str = "2m",
) -> TocsinConfig:
    """`reports` copies of a daily report named daily, daily-1, … at `cron` in New York."""
    body = ""
    for i in range(reports):
        name = "daily" if i == 0 else f"daily-{i}"
        body += f"""
  {name}:
    title: Daily health check
    schedule: {{cron: "{cron}", timezone: America/New_York}}
    channels: {report_channels}
    mention: {mention}
    sections:
      - type: query
        title: Metrics
        source: shop
        query: SELECT name, value FROM metric ORDER BY name
        thresholds: {{critical: "value > 10", warning: "value > 5"}}
      - {{type: figures, window: 24h}}
"""
    text = f"""
worker: {{lease: {lease}, concurrency: 2}}
sources:
  shop: {{type: sql, url: "{source_url}"}}
channels:
  {channels}
reports:{body or " {}"}
{extra}
"""
    config, _ = parse(text, "test.yaml", env={})
    return config
