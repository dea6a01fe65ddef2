"""Where checks read from: `sources:` maps a name to one of these, told apart by `type`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field

from tocsin.config.fields import Duration, Strict


class SqlSourceConfig(Strict):
    type: Literal["sql"]
    url: str = Field(description="SQLAlchemy URL; opened read-only")
    statement_timeout: Duration = timedelta(seconds=10)


class HttpSourceConfig(Strict):
    type: Literal["http"]
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    timeout: Duration = timedelta(seconds=10)
    verify_tls: bool = True
    max_body_bytes: int = Field(default=1_048_576, gt=0)


class PrometheusSourceConfig(Strict):
    type: Literal["prometheus"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = timedelta(seconds=10)


SourceConfig = Annotated[
    SqlSourceConfig | HttpSourceConfig | PrometheusSourceConfig, Field(discriminator="type")
]
