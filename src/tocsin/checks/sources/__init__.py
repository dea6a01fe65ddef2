"""Where checks read from: `open_source` turns a source's configuration into a `Source`."""

from __future__ import annotations

from tocsin.checks.sources.base import Row, Source
from tocsin.checks.sources.http import HttpSource
from tocsin.checks.sources.prometheus import PrometheusSource
from tocsin.checks.sources.sql import SqlSource
from tocsin.clock import Clock
from tocsin.config.egress import EgressConfig
from tocsin.config.sources import (
    HttpSourceConfig,
    PrometheusSourceConfig,
    SourceConfig,
    SqlSourceConfig,
)

__all__ = ["HttpSource", "PrometheusSource", "Row", "Source", "SqlSource", "open_source"]


def open_source(
    config: SourceConfig, clock: Clock | None = None, egress: EgressConfig | None = None
) -> Source:
    """Build the source a configuration describes, without connecting to it yet.

    `clock` dates HTTPS certificate expiry (the system clock when omitted); `egress` is the
    destination policy of HTTP sources (`egress:`; its defaults when omitted). Raises
    SourceError('unreachable') when the URL cannot be used at all (malformed, no driver).
    """
    if isinstance(config, SqlSourceConfig):
        return SqlSource(config)
    if isinstance(config, HttpSourceConfig):
        return HttpSource(config, clock=clock, egress=egress)
    if isinstance(config, PrometheusSourceConfig):
        return PrometheusSource(config, egress=egress)
    raise TypeError(f"unknown source configuration {type(config).__name__}")
