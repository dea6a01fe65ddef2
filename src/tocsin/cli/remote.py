"""The CLI from anywhere: with `tocsin --server URL` (or `TOCSIN_URL`) and a token
(`--token` or `TOCSIN_TOKEN`, from `tocsin token create NAME --scope write`), the operator
commands call that Tocsin's API instead of opening a store, and print the same tables and
the same `--json` (the API's shapes, times as `…Z`).

Light at import (`tocsin --help` imports it): the HTTP client (`tocsin.egress`, the one
outbound client) is imported when a command first calls the server."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from tocsin.cli.common import fail

TIMEOUT = timedelta(seconds=30)
MOST = 64 * 1024 * 1024  # a listing of 10,000 alerts is a few MB
# The API writes its times in UTC as `…Z`; other strings (a `+00:00` kept in an event's
# data) stay strings, as the local command prints them.
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@dataclass(frozen=True)
class Server:
    """A remote Tocsin: its base URL and the token sent as `Authorization: Bearer`."""

    url: str
    token: str | None

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        """The answer's JSON, its times (`…Z`) as aware datetimes; a 4xx/5xx
        or an unreachable server ends the command with its message."""
        from tocsin.egress import Egress, TransportError

        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            with Egress() as client:
                reply = client.request(
                    method,
                    self.url + path,
                    timeout=TIMEOUT,
                    max_bytes=MOST,
                    params=params,
                    json=body,
                    headers=headers,
                )
        except TransportError as exc:
            fail(f"cannot reach {self.url}: {exc}")
        if reply.status >= 400:
            fail(f"{self.url} answered {reply.status}: {_message(reply.text)}")
        if not reply.body:
            return None
        import json

        try:
            return revive(json.loads(reply.body))
        except ValueError:
            fail(f"{self.url} answered {reply.status} without JSON: is it a Tocsin?")


def _message(text: str) -> str:
    """The API's `{"error", "message", "problems"}` as one line (or the text itself)."""
    import json

    try:
        found = json.loads(text)
    except ValueError:
        return text[:300]
    if not isinstance(found, dict):
        return text[:300]
    message = str(found.get("message") or found.get("detail") or found)
    problems = found.get("problems")
    if isinstance(problems, list) and problems:
        message += " (" + "; ".join(str(p.get("message", p)) for p in problems[:5]) + ")"
    return message


def revive(value: Any) -> Any:
    """JSON with its timestamps back as datetimes, so a remote answer prints as a local one."""
    if isinstance(value, dict):
        return {k: revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v) for v in value]
    if isinstance(value, str) and _TIME.match(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


_server: Server | None = None


def use(url: str | None, token: str | None) -> None:
    """Set by `tocsin`'s own options for the command that follows (None: the local store)."""
    global _server
    if not url:
        _server = None
        return
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail(f"--server: {url!r} is not an http(s) URL like https://tocsin.example.com")
    _server = Server(url.strip().rstrip("/"), token or None)


# What `--server` serves; the other operator commands refuse rather than quietly open a
# local store. Commands of other nouns (config, run, db, token, user …) work on this machine.
SUPPORTED = {
    "alerts": ("list", "ack", "resolve"),
    "silence": ("add", "list", "expire"),
    "incident": ("list", "show"),
    "maintenance": ("add", "list", "end"),
    "known-issue": ("add", "list", "expire"),
    "audit": ("list",),
}
LOCAL_ONLY = ("oncall", "runbook")


def check_noun(noun: str | None) -> None:
    """End with a clear error when a whole noun's commands cannot use --server."""
    if noun in LOCAL_ONLY:
        local_only(f"tocsin {noun}")


def local_only(command: str) -> None:
    """For a command that opens the store: a clear error under --server, not a local store."""
    if _server is not None:
        supported = ", ".join(f"{n} {'|'.join(v)}" for n, v in SUPPORTED.items())
        fail(
            f"`{command}` does not work with --server yet (only {supported} do): "
            "run it where the store is, or unset TOCSIN_URL"
        )


def server() -> Server | None:
    """The remote Tocsin the command talks to, or None for the local store."""
    return _server


def segment(text: str) -> str:
    """An id as one path segment."""
    return quote(text, safe="")
