"""The operator console: who may sign in with which role, how long a session lasts, and how
many failed sign-ins are tolerated. A user's role is on the user (`users.NAME.role`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field

from tocsin.config.fields import Duration, Strict

Role = Literal["viewer", "responder", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "responder", "admin")


class ConsoleConfig(Strict):
    """Sessions and sign-in limits of the console served at `/`."""

    session_ttl: Duration = Field(
        default=timedelta(hours=12),
        description="how long a sign-in lasts (a shift); signing out or revoking ends it at once",
    )
    login_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="failed sign-ins allowed per user and per address within `login_window`",
    )
    login_window: Duration = Field(
        default=timedelta(minutes=15), description="the window failed sign-ins are counted in"
    )
