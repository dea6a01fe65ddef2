"""Where checks read from: `sources:` maps a name to one of these, told apart by `type`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field

from tocsin.config.fields import Duration, Strict


class _Source(Strict):
    def relative_to(self, folder: Path) -> Self:
        """This source with the files it names made relative to `folder` (the
        configuration's), so that the same file works from any working directory."""
        return self


class SqlSourceConfig(_Source):
    """A database that checks query with SQL: SQLite or PostgreSQL (read-only, see the
    README), or any other database SQLAlchemy reaches (its role alone keeps it safe)."""

    type: Literal["sql"] = Field(description="`sql`")
    url: str = Field(
        description="SQLAlchemy URL, like postgresql://reader:${DB_PASSWORD}@db/shop or "
        "sqlite:///shop.db (a secret: use ${VAR} for the password)"
    )
    statement_timeout: Duration = Field(
        default=timedelta(seconds=10),
        description="how long a query may run, and how long connecting may take, before the "
        "check fails with `timeout`",
    )


class HttpSourceConfig(_Source):
    """An HTTP endpoint that checks probe: each check sees one row with `status`,
    `response_time_ms`, `body`, `json`, `headers` and `certificate_days_left`."""

    type: Literal["http"] = Field(description="`http`")
    url: str = Field(description="the URL to request (http or https)")
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = Field(
        default="GET", description="the request method"
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="request headers (use ${VAR} for tokens)"
    )
    body: str | None = Field(default=None, description="the request body, sent as it is")
    timeout: Duration = Field(
        default=timedelta(seconds=10),
        description="how long the whole request may take before the check fails with `timeout`",
    )
    verify_tls: bool = Field(
        default=True,
        description="refuse an https certificate that does not verify (the check fails with `tls`)",
    )
    ca_file: Path | None = Field(
        default=None,
        description="a PEM file of CA certificates to trust besides the usual ones (a private "
        "CA), relative to the configuration file's folder",
    )
    max_body_bytes: int = Field(
        default=1_048_576, gt=0, description="the most of the response body that is read"
    )

    def relative_to(self, folder: Path) -> Self:
        if self.ca_file is None:
            return self
        return self.model_copy(update={"ca_file": folder / self.ca_file})


class PrometheusSourceConfig(_Source):
    """A Prometheus server that checks query with PromQL: one row per series, its labels as
    columns and its sample as `value`."""

    type: Literal["prometheus"] = Field(description="`prometheus`")
    url: str = Field(description="the server's base URL, like http://prometheus:9090")
    headers: dict[str, str] = Field(
        default_factory=dict, description="request headers, such as Authorization (use ${VAR})"
    )
    timeout: Duration = Field(
        default=timedelta(seconds=10),
        description="how long a query may take before the check fails with `timeout`",
    )


SourceConfig = Annotated[
    SqlSourceConfig | HttpSourceConfig | PrometheusSourceConfig, Field(discriminator="type")
]
