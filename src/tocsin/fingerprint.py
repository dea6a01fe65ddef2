"""Fingerprints: the identity of an alert, from what raised it and its sorted labels."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

# `json.dumps` with any argument builds a new encoder per call (a third of a fingerprint's
# cost); this one is built once and encodes exactly as `json.dumps(…, separators=(",", ":"))`.
_CANONICAL = json.JSONEncoder(separators=(",", ":"))


def fingerprint(origin: str, labels: Mapping[str, str]) -> str:
    """A 32-hex-digit digest of origin and labels; label order never matters."""
    canonical = _CANONICAL.encode([origin, sorted(labels.items())])
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
