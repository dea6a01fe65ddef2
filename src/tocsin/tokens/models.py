"""Credentials: hashed API tokens, and server secrets generated once and kept in the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, BigId, UTCDateTime


class ApiToken(Base):
    """An API token or an inbound integration's key. Only its SHA-256 is kept: the token is
    32 random bytes, so a fast hash is as strong as a slow one and lookups stay cheap."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings to tell tokens apart
    scopes: Mapped[str] = mapped_column(String(100))  # comma-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ServerSecret(Base):
    """A secret the server made for itself (the acknowledge-link key), so every instance
    sharing the store signs and verifies alike."""

    __tablename__ = "server_secret"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
