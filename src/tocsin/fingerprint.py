"""Fingerprints: the identity of an alert, from what raised it and its sorted labels."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def fingerprint(origin: str, labels: Mapping[str, str]) -> str:
    """A 32-hex-digit digest of origin and labels; label order never matters."""
    canonical = json.dumps([origin, sorted(labels.items())], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
