"""Label matchers with Alertmanager's syntax and semantics, shared by routes, silences,
maintenance windows, known issues and inhibition rules.

    service="payments"   service!="payments"   check=~"pay.*"   env!~"dev|staging"

A label the alert lacks matches as the empty string (so `team=""` matches alerts without a
team), and a regular expression must match the whole value (`=~"pay"` does not match
"payments"), exactly as in Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from tocsin.errors import Invalid

Op = Literal["=", "!=", "=~", "!~"]

_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(=~|!~|!=|=)\s*")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Op
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def make(cls, name: str, op: Op, value: str) -> Matcher:
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = re.compile(f"(?:{value})", re.DOTALL)
            except re.error as exc:
                raise Invalid(f"{name}{op}{value!r}: bad regular expression ({exc})") from exc
        return cls(name, op, value, regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self._regex is not None
        found = self._regex.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    @property
    def is_regex(self) -> bool:
        return self.op in ("=~", "!~")

    @property
    def is_equal(self) -> bool:
        return self.op in ("=", "=~")

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def parse_matcher(text: str) -> Matcher:
    """One matcher: `name<op>value`, the value quoted ("…" with \\ escapes) or bare."""
    matchers = parse_matchers(text)
    if len(matchers) != 1:
        raise Invalid(f"{text!r}: expected one matcher, found {len(matchers)}")
    return matchers[0]


def parse_matchers(text: str) -> list[Matcher]:
    """A comma-separated list, optionally in braces: `{service="api", env=~"prod|eu"}`."""
    body = text.strip()
    if body.startswith("{"):
        if not body.endswith("}"):
            raise Invalid(f"{text!r}: missing closing brace")
        body = body[1:-1]
    out: list[Matcher] = []
    pos = 0
    while pos < len(body):
        if not body[pos:].strip():
            break
        head = _NAME.match(body, pos)
        if head is None:
            raise Invalid(
                f"{text!r}: expected name=value, name!=value, name=~regex or name!~regex"
                f" at position {pos}"
            )
        name, op = head.group(1), head.group(2)
        pos = head.end()
        value, pos = _read_value(text, body, pos)
        out.append(Matcher.make(name, op, value))  # type: ignore[arg-type]
        rest = body[pos:].lstrip()
        if rest.startswith(","):
            pos = len(body) - len(rest) + 1
        elif rest:
            raise Invalid(f"{text!r}: expected ',' after {name}{op}{value!r}")
        else:
            break
    if not out:
        raise Invalid(f"{text!r}: no matcher")
    return out


def _read_value(text: str, body: str, pos: int) -> tuple[str, int]:
    if pos < len(body) and body[pos] == '"':
        chars: list[str] = []
        i = pos + 1
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                chars.append(_ESCAPES.get(nxt, "\\" + nxt))
                i += 2
                continue
            if ch == '"':
                return "".join(chars), i + 1
            chars.append(ch)
            i += 1
        raise Invalid(f"{text!r}: unterminated quoted value")
    end = pos
    while end < len(body) and body[end] != ",":
        end += 1
    value = body[pos:end].strip()
    if '"' in value:
        raise Invalid(f"{text!r}: stray quote in value {value!r}")
    return value, end
