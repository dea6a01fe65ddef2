"""How the process runs: the store it uses, the worker's pace, and the HTTP API it serves."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from tocsin.config.fields import Duration, Strict

DEFAULT_DATABASE_URL = "sqlite:///tocsin.db"


class StoreConfig(Strict):
    url: str = DEFAULT_DATABASE_URL


class WorkerConfig(Strict):
    poll_interval: Duration = timedelta(seconds=1)
    lease: Duration = timedelta(minutes=2)
    heartbeat_interval: Duration = timedelta(seconds=15)
    concurrency: int = Field(default=4, ge=1, le=64)


class ApiConfig(Strict):
    """The HTTP API that `tocsin run` serves beside the workers."""

    listen: str = Field(default="127.0.0.1:8080", pattern=r"^\[?[0-9A-Za-z.:-]+\]?:\d{1,5}$")
    open_metrics: bool = Field(default=True, description="serve /metrics without a token")
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    rate_limit: float = Field(default=50.0, gt=0, description="requests per second per token")
    rate_burst: int = Field(default=500, ge=1)
    ack_link_ttl: Duration = timedelta(hours=24)
    keep_pings: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="pings kept per heartbeat, the newest (healthchecks.io keeps 100)",
    )
