"""The configuration fit to print: every secret and URL password replaced by '****'."""

from __future__ import annotations

import re
from typing import Any

from tocsin.config.model import LoadedConfig


def masked(loaded: LoadedConfig) -> dict[str, Any]:
    """The configuration as data with every secret and URL password replaced by '****'."""
    data = loaded.config.model_dump(mode="json", by_alias=True, exclude_defaults=False)
    masked_data: dict[str, Any] = _mask(data, loaded.secrets)
    return masked_data


_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")
_SECRET_KEYS = re.compile(r"(?i)(password|secret|token|authorization|api[_-]?key)")


def _mask(node: Any, secrets: frozenset[str], key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _mask(v, secrets, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_mask(v, secrets, key) for v in node]
    if isinstance(node, str):
        if _SECRET_KEYS.search(key) and node:
            return "****"
        out = _URL_PASSWORD.sub(r"\1****\3", node)
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 4:
                out = out.replace(secret, "****")
        return out
    return node
