"""The console channel: one line per alert transition, so the flow is visible end to end."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tocsin.config.channels import ConsoleChannelConfig
from tocsin.notify.base import Surroundings
from tocsin.notify.text import notice
from tocsin.outbox.payload import Message

ICONS = {"fired": "🔴", "severity_changed": "🟠", "acknowledged": "🟡", "resolved": "🟢"}


def format_line(message: Message) -> str:
    p = message.payload
    if p.get("event") == "digest":
        titles = "; ".join(str(a.get("title", "")) for a in p.get("alerts", []))
        return f"📋 [{p.get('at', '')}] DIGEST of {len(p.get('alerts', []))} alert(s): {titles}"
    if (found := notice(p)) is not None:
        return f"⏳ [{p.get('at', '')}] NOTICE: {found[1]}"
    icon = ICONS.get(p.get("event", ""), "•")
    state = str(p.get("event", "")).replace("_", " ").upper()
    return (
        f"{icon} [{p.get('at', '')}] {p.get('severity', '')} {state}: "
        f"{p.get('title', '')} — {p.get('message', '')} (alert {p.get('alert_id')})"
    )


class ConsoleChannel:
    @classmethod
    def from_config(
        cls, name: str, config: ConsoleChannelConfig, env: Surroundings
    ) -> ConsoleChannel:
        return cls(name, config.stream, env.console_write)

    def __init__(
        self, name: str, stream: str = "stdout", write: Callable[[str], None] | None = None
    ) -> None:
        self.name = name
        self._stream = stream
        self._write = write

    def send(self, message: Message) -> None:
        line = format_line(message)
        if self._write is not None:
            self._write(line)
            return
        out = sys.stdout if self._stream == "stdout" else sys.stderr
        print(line, file=out, flush=True)
