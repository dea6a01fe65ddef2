"""Configuration text for worker tests."""

from __future__ import annotations

from tocsin.config import TocsinConfig, parse


def metric_config(
    source_url: str,
    *,
    extra: str = "",
    every: str = "1m",
    when_high: str = ">= 10",
    clear: str = "< 5",
    lease: str = "2m",
) -> TocsinConfig:
    text = f"""
worker: {{lease: {lease}, concurrency: 2}}
sources:
  shop: {{type: sql, url: "{source_url}"}}
channels:
  console: {{type: console}}
checks:
  - name: error_rate
    source: shop
    schedule: {{every: {every}}}
    query: SELECT value FROM metric WHERE name = 'error_rate'
    labels: {{service: checkout}}
    message: "error rate {{{{ value }}}}%"
    conditions:
      - {{when: "{when_high}", severity: HIGH, clear: "{clear}"}}
      - {{when: ">= 5", severity: WARNING}}
{extra}
"""
    config, _ = parse(text, "test.yaml", env={})
    return config
