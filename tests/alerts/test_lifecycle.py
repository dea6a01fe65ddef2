"""The alert state machine and the diff between open alerts and what a source says."""

from __future__ import annotations

import pytest

from tocsin.alerts.lifecycle import Change, Desired, next_state, plan
from tocsin.errors import Conflict


def test_allowed_moves() -> None:
    assert next_state("firing", "acknowledge") == "acknowledged"
    assert next_state("firing", "resolve") == "resolved"
    assert next_state("acknowledged", "resolve") == "resolved"


@pytest.mark.parametrize(
    ("state", "action"),
    [("acknowledged", "acknowledge"), ("resolved", "acknowledge"), ("resolved", "resolve")],
)
def test_forbidden_moves_are_conflicts(state: str, action: str) -> None:
    with pytest.raises(Conflict, match=f"cannot {action} an alert that is {state}"):
        next_state(state, action)


def test_plan_fires_changes_keeps_and_resolves() -> None:
    changes = plan(
        {"a": "WARNING", "b": "HIGH", "c": "HIGH", "gone": "HIGH"},
        [Desired("a", "HIGH"), Desired("b", "HIGH"), Desired("c", None), Desired("new", "WARNING")],
    )
    assert changes == [
        Change("severity", "a", "HIGH"),
        Change("keep", "b", "HIGH"),
        Change("resolve", "c"),
        Change("fire", "new", "WARNING"),
        Change("resolve", "gone"),
    ]


def test_a_partial_report_does_not_resolve_what_it_did_not_mention() -> None:
    assert plan({"a": "HIGH"}, [], authoritative=False) == []
