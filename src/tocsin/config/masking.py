"""The configuration fit to print: every secret replaced by '****'.

Masked: every value that came from a `${VAR}`, every value under a key named like a secret
(`routing_key`, `auth_token`, `password`, `secret`, a header such as `Authorization` or
`X-Api-Key`), and what URLs hold (`redact.url`: passwords, query values, and over http(s)
the tokens in Discord and Slack webhook paths). The store URL shown is the one in effect:
`$TOCSIN_DATABASE_URL` wins over the file.
"""

from __future__ import annotations

from typing import Any

from tocsin import redact
from tocsin.config.model import LoadedConfig


def masked(loaded: LoadedConfig) -> dict[str, Any]:
    """The configuration as data with every secret replaced by '****'."""
    data = loaded.config.model_dump(mode="json", by_alias=True, exclude_defaults=False)
    data["store"]["url"] = loaded.database_url
    masked_data: dict[str, Any] = _mask(data, loaded.secrets)
    return masked_data


def _mask(node: Any, secrets: frozenset[str], key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _mask(v, secrets, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        # A list under a secret-sounding key is not itself a secret (a check's `key:` names
        # columns), so its items are judged on their own.
        return [_mask(v, secrets) for v in node]
    if isinstance(node, str):
        if node and redact.is_secret_name(key):
            return redact.MASK
        # Not `redact.text`: a check's SQL saying `token_count = 5` is no secret.
        return redact.urls(redact.known(node, secrets))
    return node
