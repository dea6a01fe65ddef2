"""Noise control: maintenance windows, known issues, silences, inhibition, flapping and
grouping, in that order, between an alert's transition and its notifications.

The pipeline calls `screen` for every event and, when the verdict says so, `hold_in_group`
instead of writing to the outbox; the worker calls `run_due` every tick.
"""

from tocsin.noise.grouping import flush_due_groups
from tocsin.noise.grouping import hold as hold_in_group
from tocsin.noise.screen import Screening, Verdict, batchable, screen
from tocsin.noise.steps import run_due, seed

__all__ = [
    "Screening",
    "Verdict",
    "batchable",
    "flush_due_groups",
    "hold_in_group",
    "run_due",
    "screen",
    "seed",
]
