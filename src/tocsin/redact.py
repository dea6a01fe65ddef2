"""Secrets out of anything shown: URLs, free text (error bodies, messages), values by name.

One module so every place that shows something (log lines, stored errors, evaluation rows,
API answers, `tocsin config show`) hides the same things the same way:

- in a URL: the password of `user:password@` (over http(s), a lone name too: a token), every
  query value, the fragment, and, over http(s), each path segment that looks like a token
  (Discord and Slack webhook tokens, Twilio SIDs, ping UUIDs): a word is kept, `v1` is kept,
  `T0K3N-s3cr3t` is not;
- in text: every URL as above, each secret the caller knows (a configured value, a `${VAR}`),
  `Bearer`/`Basic` credentials, and the value of any `name=value`, `name: value` or
  `"name": "value"` whose name says it is secret (password, token, secret, key, signature…).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote, urlsplit, urlunsplit

MASK = "****"
SHORTEST_SECRET = 4  # shorter known values are not hunted in text: "on" would mask everything

# Words that make a name secret, as whole parts of it: `routing_key`, `X-Api-Key`, `apiKey`,
# `auth_token`, `Authorization` are; `monkey`, `signal`, `author` are not.
SECRET_WORDS = frozenset(
    {"password", "passwd", "pass", "pwd", "secret", "token", "key", "apikey", "signature",
     "sig", "authorization", "auth", "credential", "credentials", "cookie"}
)  # fmt: skip
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_NAMED_VALUE = re.compile(
    r"""(?P<name>["']?[A-Za-z][A-Za-z0-9_.-]*["']?)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s,;&"'}\]]+)"""
)


def url(text: str) -> str:
    """`text` with the secrets a URL can hold masked; anything that is not a URL unchanged."""
    try:
        parts = urlsplit(text)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return MASK if "@" in text else text
    if not parts.scheme or not parts.netloc:
        return text
    web = parts.scheme.lower() in ("http", "https")
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, colon, _password = userinfo.partition(":")
        if colon:
            netloc = f"{user}:{MASK}@{host}"
        elif web:  # over http(s) a lone name is usually a token; a database's is a role
            netloc = f"{MASK}@{host}"
    elif port is None and parts.hostname is None:
        return text
    path = parts.path
    if web:
        path = "/".join(MASK if looks_secret(part) else part for part in path.split("/"))
    query = "&".join(
        f"{quote(name, safe='')}={MASK}"
        for name, _value in parse_qsl(parts.query, keep_blank_values=True)
    )
    fragment = MASK if parts.fragment else ""
    return urlunsplit(SplitResult(parts.scheme, netloc, path, query, fragment))


def looks_secret(segment: str) -> bool:
    """Whether a URL path segment looks like a token rather than a word or a version: eight
    or more characters mixing letters and digits, or twenty or more that mix cases or have
    no separator."""
    letters = any(c.isalpha() for c in segment)
    digits = any(c.isdigit() for c in segment)
    if len(segment) >= 8 and letters and digits:
        return True
    kinds = sum((any(c.islower() for c in segment), any(c.isupper() for c in segment), digits))
    return len(segment) >= 20 and (kinds >= 2 or segment.isalnum())


def text(value: str, secrets: Iterable[str] = ()) -> str:
    """`value` with every URL redacted, every known secret masked, and credentials and values
    named like secrets masked."""
    value = urls(known(value, secrets))
    value = _CREDENTIALS.sub(lambda match: f"{match.group(1)} {MASK}", value)
    return _NAMED_VALUE.sub(_mask_named, value)


def urls(value: str) -> str:
    """`value` with every URL in it redacted (`url`), and nothing else changed."""
    return _URL.sub(lambda match: url(match.group(0)), value)


def known(value: str, secrets: Iterable[str]) -> str:
    """`value` with each of `secrets` masked (longest first, so a secret containing another
    is masked whole), and nothing else changed."""
    for secret in sorted({s for s in secrets if len(s) >= SHORTEST_SECRET}, key=len, reverse=True):
        value = value.replace(secret, MASK)
    return value


def _mask_named(match: re.Match[str]) -> str:
    found = match.group("value")
    if not is_secret_name(match.group("name").strip("\"'")) or found.strip("\"'") in ("", MASK):
        return match.group(0)
    quote_mark = found[0] if found[0] in "\"'" else ""
    return f"{match.group('name')}{match.group('sep')}{quote_mark}{MASK}{quote_mark}"


def is_secret_name(name: str) -> bool:
    """Whether a field, header or parameter named `name` holds a secret: one of its parts
    (split at punctuation and at camelCase) is a secret word."""
    spaced = _CAMEL.sub(r"\1_\2", name).lower()
    return any(part in SECRET_WORDS for part in _PARTS.split(spaced))


_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_PARTS = re.compile(r"[^a-z0-9]+")


def request_secrets(
    url: str,
    *,
    json: Any = None,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> list[str]:
    """The secrets a request carried, to mask wherever an answer echoes them: the URL's
    userinfo, token-like path segments and query values that are named like secrets or look
    like tokens, the Basic credentials, header values named like secrets (with the token of
    `Bearer …`), and body values named like secrets (a PagerDuty routing key). Ordinary
    values (`?format=json`, `X-Team: ops`) are left alone: an answer may well contain them."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        found += [parts.username or "", parts.password or ""]
    except ValueError:
        parts = urlsplit("")
    found += [
        value
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if is_secret_name(name) or looks_secret(value)
    ]
    found += [segment for segment in parts.path.split("/") if looks_secret(segment)]
    if auth is not None:
        # The Basic credentials too, in case a proxy echoes the Authorization header.
        found += [auth[1], base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()]
    for name, value in (headers or {}).items():
        if is_secret_name(name) or looks_secret(value):
            found += [value, value.partition(" ")[2]]
    found += named_secrets(json) + named_secrets(dict(data or {}))
    return [value for value in found if value]


def named_secrets(body: Any) -> list[str]:
    """String values anywhere in JSON-like data whose key names a secret."""
    if isinstance(body, dict):
        found: list[str] = []
        for key, value in body.items():
            if isinstance(value, str) and is_secret_name(str(key)):
                found.append(value)
            else:
                found += named_secrets(value)
        return found
    if isinstance(body, list):
        return [value for item in body for value in named_secrets(item)]
    return []
