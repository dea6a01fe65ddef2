"""Condition expressions and message templates, both sandboxed Jinja2.

A condition is a Jinja2 expression over a row's columns (`urgent_count > 0 and oldest > 120`);
one that starts with a comparison operator is shorthand for `value <op> …` (`>= 10`).
Undefined names are errors, never silently false.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_SHORTHAND = re.compile(r"^\s*(>=|<=|==|!=|>|<)")


class ExpressionError(ValueError):
    pass


def _normalise(source: str) -> str:
    return f"value {source.strip()}" if _SHORTHAND.match(source) else source


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Callable[..., Any]:
    """Compile a condition once; raise ExpressionError naming the syntax problem."""
    text = _normalise(source)
    if not text.strip():
        raise ExpressionError("empty expression")
    try:
        return _env.compile_expression(text, undefined_to_none=False)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"{source!r} is not a valid expression: {exc.message}") from None


def evaluate(source: str, variables: Mapping[str, Any]) -> bool:
    """Evaluate a condition over variables; raise ExpressionError if it cannot be decided."""
    try:
        return bool(compile_expression(source)(**variables))
    except UndefinedError as exc:
        raise ExpressionError(f"{source!r}: {exc.message}") from None
    except (TypeError, ZeroDivisionError, SecurityError) as exc:
        raise ExpressionError(f"{source!r}: {exc}") from None


@lru_cache(maxsize=1024)
def compile_template(source: str) -> Any:
    try:
        return _env.from_string(source)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"template error on line {exc.lineno}: {exc.message}") from None


def render(source: str, variables: Mapping[str, Any]) -> str:
    """Render a message template; a missing column renders as an error note, not a crash."""
    try:
        return str(compile_template(source).render(**variables))
    except (UndefinedError, TypeError, SecurityError, ExpressionError) as exc:
        return f"{source} [template error: {exc}]"
