"""The second, lenient pass that lets `config validate` name every mistake at once.

When the file does not validate, its schema errors are named, and the cross-checks still run
over what did validate. To find that, each error is cut out of the data: first the smallest
piece that holds it — the wrong key, or the wrong item of a list — then, while cutting leaves
a new error (a required key now missing), a larger piece, up to the whole entry of a section
(one check, one source…) or the whole section. So a check with one bad condition keeps its
other conditions and its source and channels are still checked; a check whose `schedule` is
wrong is left out whole. A reference to an entry that was left out is not reported as missing:
the entry is in the file, and its own errors are named already.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_origin

from pydantic import ValidationError

from tocsin.config.model import TocsinConfig
from tocsin.config.problems import Loc, data_loc

MAP_SECTIONS = frozenset(
    name for name, spec in TocsinConfig.model_fields.items() if get_origin(spec.annotation) is dict
)
# Each cut tries a few pieces; a file with more mistakes than this is not worth cross-checking.
_MAX_CUTS = 200


@dataclass(frozen=True)
class Survivors:
    """The configuration that validated, and how to find its places in the file."""

    config: TocsinConfig
    # Every name each map section defines in the file, valid or not.
    defined: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # The list items cut out, in order: (location of the list, index of the item).
    cut_items: tuple[tuple[Loc, int], ...] = ()

    def names(self, section: str) -> frozenset[str]:
        """Every name the map `section` defines in the file, valid or not."""
        if section in self.defined:
            return self.defined[section]
        return frozenset(getattr(self.config, section))

    def exists(self, section: str, name: str) -> bool:
        return name in self.names(section)

    def in_file(self, loc: Loc) -> Loc:
        """Where `loc`, a place in the configuration that validated, is in the file."""
        return _restore(loc, self.cut_items)


def whole(config: TocsinConfig) -> Survivors:
    """A configuration that validated as it is: everything survived."""
    return Survivors(config)


def survivors(data: Mapping[str, Any]) -> Survivors | None:
    """What validates of `data` once every error is cut out; None when that fails (an error
    about the file as a whole), so there is nothing to cross-check."""
    kept: dict[str, Any] = copy.deepcopy(dict(data))
    cut: list[tuple[Loc, int]] = []
    errors = _errors(kept, cut)
    for _ in range(_MAX_CUTS):
        if not errors:
            break
        loc = errors[0]
        for end in range(len(loc), 0, -1):
            trial, trial_cut = _without(kept, loc[:end], cut)
            found = _errors(trial, trial_cut)
            # Accept a cut only if it removes errors and adds none (a required key missing).
            if len(found) < len(errors) and set(found) <= set(errors):
                kept, cut, errors = trial, trial_cut, found
                break
        else:
            return None
    if errors:
        return None
    defined = {
        section: frozenset(str(k) for k in value)
        for section, value in data.items()
        if section in MAP_SECTIONS and isinstance(value, dict)
    }
    return Survivors(TocsinConfig.model_validate(kept), defined, tuple(cut))


def _errors(data: dict[str, Any], cut: list[tuple[Loc, int]]) -> list[Loc]:
    """The places of the schema errors in `data`, counted as in the file."""
    try:
        TocsinConfig.model_validate(data)
    except ValidationError as exc:
        return [_restore(data_loc(data, item["loc"]), cut) for item in exc.errors()]
    return []


def _without(
    data: dict[str, Any], loc: Loc, cut: list[tuple[Loc, int]]
) -> tuple[dict[str, Any], list[tuple[Loc, int]]]:
    """A copy of `data` without the piece at `loc` (a place in the file), and the cuts so far."""
    here = _current(loc, cut)
    trial = copy.deepcopy(data)
    parent: Any = trial
    for part in here[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return trial, cut
    last = here[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return trial, cut
    if isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
        del parent[last]
        return trial, [*cut, (here[:-1], last)]
    return trial, cut


def _restore(loc: Loc, cut: Sequence[tuple[Loc, int]]) -> Loc:
    """A place in the data after the cuts, as a place in the file: every item cut from a list
    before it moves it one further."""
    return _moved(loc, cut, back=True)


def _current(loc: Loc, cut: Sequence[tuple[Loc, int]]) -> Loc:
    """A place in the file as a place in the data after the cuts (`_restore` undone)."""
    return _moved(loc, cut, back=False)


def _moved(loc: Loc, cut: Sequence[tuple[Loc, int]], *, back: bool) -> Loc:
    out = list(loc)
    for parent, index in reversed(cut) if back else cut:
        depth = len(parent)
        if tuple(out[:depth]) != parent or len(out) <= depth:
            continue
        item = out[depth]
        if isinstance(item, int) and (item >= index if back else item > index):
            out[depth] = item + 1 if back else item - 1
    return tuple(out)
