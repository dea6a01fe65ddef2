"""How the process runs: the store it uses, the worker's pace, and the HTTP API it serves."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from tocsin.config.fields import Duration, Strict
from tocsin.config.locate import DEFAULT_DATABASE_URL


class StoreConfig(Strict):
    """Where Tocsin keeps its own state: alerts, evaluations, notifications to send."""

    url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the store: a SQLite file, or PostgreSQL when several "
        "instances share the work ($TOCSIN_DATABASE_URL wins over it)",
    )


class WorkerConfig(Strict):
    """The pace of `tocsin run`'s workers."""

    poll_interval: Duration = Field(
        default=timedelta(seconds=1), description="how often the workers look for due work"
    )
    lease: Duration = Field(
        default=timedelta(seconds=15),
        description="how long a claimed check or notification stays claimed without renewal; "
        "the holder renews it every quarter of this, and an instance that died leaves its "
        "work to the others after this",
    )
    heartbeat_interval: Duration = Field(
        default=timedelta(seconds=15),
        description="how often each instance records that it is alive (/readyz reads it)",
    )
    concurrency: int = Field(
        default=4, ge=1, le=64, description="checks evaluated at once (threads)"
    )


class ApiConfig(Strict):
    """The HTTP API that `tocsin run` serves beside the workers."""

    listen: str = Field(
        default="127.0.0.1:8080",
        pattern=r"^\[?[0-9A-Za-z.:-]+\]?:\d{1,5}$",
        description="HOST:PORT to serve on (0.0.0.0:8080 for every interface)",
    )
    open_metrics: bool = Field(default=True, description="serve /metrics without a token")
    max_body_bytes: int = Field(
        default=1_048_576, gt=0, description="the largest request body accepted"
    )
    rate_limit: float = Field(default=50.0, gt=0, description="requests per second per token")
    rate_burst: int = Field(
        default=500, ge=1, description="requests a token may send at once above `rate_limit`"
    )
    ack_link_ttl: Duration = Field(
        default=timedelta(hours=24),
        description="how long the acknowledge link in a notification works",
    )
    keep_pings: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="pings kept per heartbeat, the newest (healthchecks.io keeps 100)",
    )
