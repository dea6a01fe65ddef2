"""Fingerprints never change: stored alerts are matched by them."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from tocsin.fingerprint import fingerprint

TEXT = ["", "a", "alertname", 'say "hi"', "back\\slash", "tab\tnew\nline", "\x00\x1f\x7f"]
TEXT += ["ümlaut", "日本", "emoji 🚨", "\ud800 lone", "/slash", "x" * 300, "</script>", "\u2028"]


def encoded(origin: Any, labels: dict[Any, Any]) -> str:
    """The definition: a digest of json's compact encoding of origin and the sorted pairs."""
    canonical = json.dumps([origin, sorted(labels.items())], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def test_a_fingerprint_is_the_digest_of_the_json_of_origin_and_sorted_labels() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        labels = {rng.choice(TEXT) + rng.choice(TEXT): rng.choice(TEXT) for _ in range(6)}
        origin = rng.choice(["alertmanager", "event", "pagerduty", *TEXT])
        assert fingerprint(origin, labels) == encoded(origin, labels)


def test_labels_that_are_not_all_text_are_digested_as_json_encodes_them() -> None:
    for value in (5, 1.5, None, True, ["a"], {"b": 1}):
        labels: Any = {"a": "b", "c": value}
        assert fingerprint("x", labels) == encoded("x", labels)


def test_known_fingerprints_stay_as_they_are() -> None:
    assert fingerprint("alertmanager", {"b": "2", "a": "1"}) == "b5344e156f390d93cd2c20d5258d1d73"
    assert fingerprint("heartbeat", {}) == encoded("heartbeat", {})
