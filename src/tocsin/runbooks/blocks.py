"""Fenced code blocks Tocsin can run, in runme's style: the language, then a JSON object of
attributes in the info string (```` ```sql {"source": "shop", "timeout": "10s"} ````).

`sql` blocks hold one statement; their parameters are bind parameters (`:since`), found by the
same rule SQLAlchemy's `text()` binds them with when the statement runs. `http` blocks hold a
request as `.http` files write it (request line, headers, blank line, body); `sh` blocks (also
`bash`, `shell`) a script. Both take parameters as `${NAME}`; a bare `$NAME` is the shell's own
variable. Parameter names compare in lower case, so `${PROVIDER}`, `:provider` and the alert
label `provider` are one parameter.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from tocsin.config.fields import parse_duration
from tocsin.expressions import ExpressionError, compile_expression
from tocsin.runbooks.frontmatter import Mistake

Kind = Literal["sql", "http", "sh"]
Mode = Literal["read", "write"]
EXECUTABLE: Mapping[str, Kind] = {
    "sql": "sql",
    "http": "http",
    "sh": "sh",
    "bash": "sh",
    "shell": "sh",
}
ATTRIBUTES = ("auto", "dialect", "mode", "source", "test", "timeout")
DIALECTS = ("postgresql", "sqlite")
HTTP_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
_READ_METHODS = ("GET", "HEAD", "OPTIONS")

# SQLAlchemy's own rule for `:name` in text(): not after a colon, a word character or a
# backslash, and not before a colon (so `::int` casts and `'10:30'` are not parameters).
_SQL_PARAM = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
_BRACED_PARAM = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
BRACED_PARAM = _BRACED_PARAM  # `${NAME}`, filled by tocsin.runbooks.steps
_HEADER = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$")
_DOLLAR_QUOTE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Statements that change data or schema, and functions with effects a read-only transaction
# does not stop (pg_terminate_backend kills sessions even there).
# fmt: off
_WRITE_KEYWORDS = frozenset({
    "insert", "update", "delete", "merge", "create", "alter", "drop", "truncate", "grant",
    "revoke", "vacuum", "reindex", "cluster", "refresh", "comment", "copy", "lock", "do", "call",
})
_WRITE_FUNCTIONS = frozenset({
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "setval", "nextval",
    "set_config",
})
# fmt: on


@dataclass(frozen=True)
class ParamUse:
    name: str  # lower case
    written: str  # `${PROVIDER}` or `:provider`
    line: int


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str


@dataclass(frozen=True)
class Block:
    """One executable block; `line` is its opening fence's line in the file."""

    kind: Kind
    language: str
    attributes: Mapping[str, Any]
    body: str
    line: int
    section: str | None
    step: int | None
    params: tuple[ParamUse, ...]
    source: str | None
    timeout: timedelta | None
    mode: Mode
    auto: bool
    tests: tuple[str, ...]
    dialect: str | None
    request: HttpRequest | None


def read_block(
    info: str,
    body: str,
    line: int,
    section: str | None = None,
    step: int | None = None,
    default_source: str | None = None,
) -> tuple[Block | None, list[Mistake]]:
    """The block an info string and body make (None when the language is not executable) and
    every mistake in its attributes and body, each with its line."""
    language, _, rest = info.strip().partition(" ")
    kind = EXECUTABLE.get(language.lower())
    if kind is None:
        return None, []
    mistakes: list[Mistake] = []
    attributes = _attributes(language, rest.strip(), line, mistakes)
    check = _Checker(kind, attributes, line, mistakes)
    request = None
    if kind == "http":
        request = read_request(body, line, mistakes)
    declared_mode = check.mode()
    mode: Mode = declared_mode or _default_mode(kind, request)
    if kind == "sql":
        _check_sql(body, line, declared_mode, mistakes)
    elif not body.strip():
        mistakes.append(Mistake(line, f"the {language} block is empty"))
    auto = check.flag("auto")
    if auto and mode == "write":
        mistakes.append(
            Mistake(line, "an auto block must be read-only: it runs unattended when alerts fire")
        )
    block = Block(
        kind=kind,
        language=language,
        attributes=attributes,
        body=body,
        line=line,
        section=section,
        step=step,
        params=find_params(kind, body, line),
        source=check.source() or (default_source if kind == "sql" else None),
        timeout=check.timeout(),
        mode=mode,
        auto=auto,
        tests=check.tests(),
        dialect=check.dialect(),
        request=request,
    )
    return block, mistakes


def find_params(kind: Kind, body: str, line: int) -> tuple[ParamUse, ...]:
    """Every parameter use, in order, with the file line it is on."""
    pattern = _SQL_PARAM if kind == "sql" else _BRACED_PARAM
    return tuple(
        ParamUse(
            match.group(1).lower(), match.group(0), line + 1 + body.count("\n", 0, match.start())
        )
        for match in pattern.finditer(body)
    )


def _attributes(language: str, text: str, line: int, mistakes: list[Mistake]) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        mistakes.append(
            Mistake(line, f"the attributes after {language!r} are not JSON: {exc.msg}: {text}")
        )
        return {}
    if not isinstance(value, dict):
        mistakes.append(Mistake(line, f"the attributes after {language!r} must be a JSON object"))
        return {}
    for name in value:
        if name not in ATTRIBUTES:
            hint = difflib.get_close_matches(name, ATTRIBUTES, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            mistakes.append(
                Mistake(
                    line,
                    f"unknown attribute {name!r}{suggestion}; known: {', '.join(ATTRIBUTES)}",
                )
            )
    return value


class _Checker:
    """Typed attribute values; a wrong one is a mistake and reads as unset."""

    def __init__(
        self, kind: Kind, attributes: Mapping[str, Any], line: int, mistakes: list[Mistake]
    ) -> None:
        self.kind, self.attributes, self.line, self.mistakes = kind, attributes, line, mistakes

    def _wrong(self, name: str, expected: str) -> None:
        given = json.dumps(self.attributes[name])
        self.mistakes.append(Mistake(self.line, f"attribute {name!r}: {given} is not {expected}"))

    def _sql_only(self, name: str) -> bool:
        if name in self.attributes and self.kind != "sql":
            self.mistakes.append(Mistake(self.line, f"only sql blocks take {name!r}"))
            return False
        return name in self.attributes

    def source(self) -> str | None:
        if not self._sql_only("source"):
            return None
        value = self.attributes["source"]
        if isinstance(value, str) and value:
            return value
        self._wrong("source", "the name of a source")
        return None

    def dialect(self) -> str | None:
        if not self._sql_only("dialect"):
            return None
        value = self.attributes["dialect"]
        if value in DIALECTS:
            return str(value)
        self._wrong("dialect", f"one of {', '.join(DIALECTS)}")
        return None

    def timeout(self) -> timedelta | None:
        if "timeout" not in self.attributes:
            return None
        try:
            value = parse_duration(self.attributes["timeout"])
        except ValueError:
            value = timedelta(0)
        if value > timedelta(0):
            return value
        self._wrong("timeout", "a duration like 10s or 2m")
        return None

    def mode(self) -> Mode | None:
        value = self.attributes.get("mode")
        if value is None or value in ("read", "write"):
            return value
        self._wrong("mode", '"read" or "write"')
        return None

    def flag(self, name: str) -> bool:
        value = self.attributes.get(name, False)
        if isinstance(value, bool):
            return value
        self._wrong(name, "true or false")
        return False

    def tests(self) -> tuple[str, ...]:
        value = self.attributes.get("test", [])
        tests = [value] if isinstance(value, str) else value
        if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
            self._wrong("test", "an expression or a list of expressions")
            return ()
        for test in tests:
            try:
                compile_expression(test)
            except ExpressionError as exc:
                self.mistakes.append(Mistake(self.line, f"attribute 'test': {exc}"))
        return tuple(tests)


def _default_mode(kind: Kind, request: HttpRequest | None) -> Mode:
    # A script may do anything: it is a write unless its author says otherwise.
    if kind == "sql":
        return "read"
    if kind == "http" and request is not None and request.method in _READ_METHODS:
        return "read"
    return "write"


def _check_sql(body: str, line: int, declared: Mode | None, mistakes: list[Mistake]) -> None:
    statements = sql_statements(body)
    if not statements:
        mistakes.append(Mistake(line, "the sql block holds no statement"))
        return
    if len(statements) > 1:
        mistakes.append(
            Mistake(
                line,
                f"the sql block holds {len(statements)} statements; "
                "a block runs one: give each its own block",
            )
        )
    writes = [w for words in statements for w in _writing_words(words)]
    if writes and declared != "write":
        mistakes.append(
            Mistake(
                line,
                f'the statement writes ({writes[0]}): mark the block {{"mode": "write"}}, '
                "so that it asks for approval and a source that allows writes",
            )
        )


def _writing_words(words: tuple[str, ...]) -> list[str]:
    found = [words[0].upper()] if words[0].lower() in _WRITE_KEYWORDS else []
    return found + [w for w in words if w.lower() in _WRITE_FUNCTIONS]


def sql_statements(sql: str) -> list[tuple[str, ...]]:
    """The words outside quotes and comments of each non-empty `;`-separated statement."""
    statements: list[tuple[str, ...]] = []
    words: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if sql.startswith("--", i):
            i = _after(sql, "\n", i + 2)
        elif sql.startswith("/*", i):
            i = _after(sql, "*/", i + 2)
        elif char in "'\"":
            i = _after(sql, char, i + 1)
        elif char == "$" and (quote := _DOLLAR_QUOTE.match(sql, i)):
            i = _after(sql, quote.group(0), quote.end())
        elif char == ";":
            if words:
                statements.append(tuple(words))
            words, i = [], i + 1
        elif word := _WORD.match(sql, i):
            words.append(word.group(0))
            i = word.end()
        else:
            i += 1
    if words:
        statements.append(tuple(words))
    return statements


def _after(text: str, end: str, start: int) -> int:
    found = text.find(end, start)
    return len(text) if found < 0 else found + len(end)


def read_request(body: str, line: int, mistakes: list[Mistake]) -> HttpRequest | None:
    """The request of an http block: `METHOD URL`, `Name: value` headers, a blank line, body.
    Lines starting with `#` before the request line are comments."""
    lines = body.split("\n")
    index = 0
    while index < len(lines) and (not lines[index].strip() or lines[index].startswith("#")):
        index += 1
    at = line + 1 + index
    parts = lines[index].split() if index < len(lines) else []
    method = parts[0] if parts else ""
    if len(parts) not in (2, 3) or method not in HTTP_METHODS:
        mistakes.append(
            Mistake(at, f"an http block starts with METHOD URL ({', '.join(HTTP_METHODS)})")
        )
        return None
    url = parts[1]
    if not url.startswith(("http://", "https://", "${")):
        mistakes.append(Mistake(at, f"{url!r} is not an http:// or https:// URL"))
    headers: list[tuple[str, str]] = []
    index += 1
    while index < len(lines) and lines[index].strip():
        header = _HEADER.match(lines[index].strip())
        if header is None:
            mistakes.append(Mistake(line + 1 + index, "a header line is `Name: value`"))
        else:
            headers.append((header.group(1), header.group(2)))
        index += 1
    content = "\n".join(lines[index + 1 :]).strip("\n")
    return HttpRequest(method, url, tuple(headers), content)
