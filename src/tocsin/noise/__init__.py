"""Noise control: maintenance windows, known issues, silences, inhibition, flapping and
grouping, in that order, between an alert's transition and its notifications.

The pipeline calls `screen` for every event and, when the verdict says so, `hold_in_group`
instead of writing to the outbox; the worker's steps call the due work (`mute_due`,
`flush_due_groups`, `recheck_muted`, `expiring`), each returning what the pipeline acts on.
"""

from tocsin.noise.grouping import flush_due_groups
from tocsin.noise.grouping import hold as hold_in_group
from tocsin.noise.mutes import Released, recheck_muted
from tocsin.noise.rescreen import Muted
from tocsin.noise.rescreen import run_due as mute_due
from tocsin.noise.screen import Screening, Verdict, batchable, screen
from tocsin.noise.silences import tell_creator
from tocsin.noise.steps import expiring, seed

__all__ = [
    "Muted",
    "Released",
    "Screening",
    "Verdict",
    "batchable",
    "expiring",
    "flush_due_groups",
    "hold_in_group",
    "mute_due",
    "recheck_muted",
    "screen",
    "seed",
    "tell_creator",
]
