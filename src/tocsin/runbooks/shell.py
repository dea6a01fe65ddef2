"""Shell steps without a shell: a block's lines as argv lists (split by shell rules *before*
parameters are put in, so a value is one argument whatever it holds), each run as a process
in a clean environment, its output hashed whole and kept up to a cap, killed with its children
at a deadline. `tocsin.runbooks.steps` decides whether a block may run at all."""

from __future__ import annotations

import hashlib
import os
import shlex
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from tocsin.errors import Invalid
from tocsin.runbooks.blocks import BRACED_PARAM

OUTPUT_CAP = 64 * 1024
_SHELL_OPERATORS = frozenset({"|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "<<", "2>", "2>&1"})


def substitute(template: str, params: Mapping[str, Any]) -> str:
    """`${NAME}` replaced by the parameter's value (callers have checked every one is filled)."""
    return BRACED_PARAM.sub(lambda m: as_text(params[m.group(1).lower()]), template)


def as_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def commands(body: str, params: Mapping[str, Any]) -> list[list[str]]:
    """The argv of each command line, parameters put into the words after splitting; Invalid
    for a line that needs a shell (pipes, redirections, `$(…)`, backquotes)."""
    out = []
    # A line ending in a backslash goes on on the next, as in a shell.
    for number, raw in enumerate(body.replace("\\\n", " ").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise Invalid(f"command line {number}: {exc}") from None
        bad = [w for w in words if w in _SHELL_OPERATORS or "$(" in w or "`" in w]
        if bad:
            raise Invalid(
                f"command line {number}: {bad[0]!r} needs a shell; sh steps run each line as "
                "one command without a shell"
            )
        if words:
            out.append([substitute(word, params) for word in words])
    return out


class Output:
    """Everything the commands wrote: hashed whole, kept up to the cap."""

    def __init__(self) -> None:
        self.kept = bytearray()
        self.size = 0
        self.hash = hashlib.sha256()
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self.size += len(chunk)
            self.hash.update(chunk)
            room = OUTPUT_CAP - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]


def run_command(
    argv: list[str], path: str, seconds: float, sink: Callable[[bytes], None]
) -> int | None:
    """Run one command; its exit status, or None when it was killed at the deadline."""
    try:
        proc = subprocess.Popen(  # argv from an allow-list, never a shell
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={"PATH": path, "LANG": "C.UTF-8"},
            start_new_session=True,  # so the timeout kills its children too
        )
    except OSError as exc:
        sink(f"cannot run {argv[0]}: {exc.strerror}\n".encode())
        return 127
    assert proc.stdout is not None
    stream = proc.stdout
    reader = threading.Thread(target=lambda: _drain(stream, sink), daemon=True)
    reader.start()
    try:
        status = proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(timeout=1)
        return None
    reader.join(timeout=1)
    return status


def _drain(stream: Any, sink: Callable[[bytes], None]) -> None:
    while chunk := stream.read1(65536):
        sink(chunk)
