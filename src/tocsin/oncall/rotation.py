"""Who is on call: a schedule's layers, restrictions and overrides folded into one timeline.

Pure: configuration, overrides and instants in, shifts out. The algorithm, for a range:

1. Each layer is cut into turns. Turn k starts at `start + k * rotation` counted in the
   schedule's wall-clock time and then placed in the zone, so a 09:00 handoff stays 09:00
   local across a daylight-saving change (the turn spanning it is an hour longer or shorter).
   A wall time that does not exist (the spring-forward hour) is read with the offset before
   the change; one that exists twice, as its first occurrence.
2. A layer's `restrict` keeps only the parts of its turns inside the daily window; outside it
   the layer has nobody, and lower layers show through.
3. Layers stack: at every instant the last layer that has someone wins (PagerDuty's layers);
   overrides sit above every layer, the newest above older ones.
4. Neighbouring pieces of one turn or one override are joined; one person's consecutive
   turns stay separate shifts, so every shift's bounds come from the configuration (and a
   calendar event's stay put between exports), never from how far the computation looked.
   Where nobody is on call the timeline says so (a shift with `user=None`), never skips it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from heapq import heappop, heappush
from itertools import pairwise
from zoneinfo import ZoneInfo

from tocsin.config.fields import DAYS
from tocsin.config.oncall import LayerConfig, OncallScheduleConfig

# Far enough back and ahead to find where a shift crossing the asked range really begins and
# ends (a shift can be an override of any length); past this a shift is shown cut.
MAX_REACH = timedelta(days=400)


@dataclass(frozen=True)
class Cover:
    """An override as the core sees it: `user` covers the schedule over [start, end)."""

    id: int
    user: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Shift:
    """One person (or nobody, `user=None`) on call over [start, end), aware UTC."""

    start: datetime
    end: datetime
    user: str | None
    layer: str | None = None
    override_id: int | None = None
    turn: int | None = None  # which turn of the layer, counted from its start

    def same_as(self, other: Shift) -> bool:
        """Pieces of one turn, one override or one gap: joined when they meet."""
        return (self.user, self.layer, self.override_id, self.turn) == (
            other.user,
            other.layer,
            other.override_id,
            other.turn,
        )

    @property
    def source(self) -> str:
        if self.override_id is not None:
            return f"override #{self.override_id}"
        return self.layer or ""


def shifts(
    schedule: OncallScheduleConfig,
    covers: Sequence[Cover],
    start: datetime,
    end: datetime,
) -> list[Shift]:
    """The timeline over [start, end): every instant in exactly one shift.

    Shifts of people keep their real bounds even where they reach outside the range, so a
    listing or a calendar export shows the same shift (and the same bounds) whatever the range;
    gaps are cut to the range.
    """
    return [
        s if s.user is not None else Shift(max(s.start, start), min(s.end, end), None)
        for s in _uncut(schedule, covers, start, end)
    ]


def on_call(schedule: OncallScheduleConfig, covers: Sequence[Cover], at: datetime) -> Shift:
    """The shift in effect at `at`, with its real bounds (`user` is None when nobody is on call,
    and then the bounds say how long the gap lasts, as far as MAX_REACH)."""
    for shift in _uncut(schedule, covers, at, at + timedelta(microseconds=1)):
        if shift.start <= at < shift.end:
            return shift
    raise AssertionError("the timeline covers every instant")  # pragma: no cover


def first_reach(schedule: OncallScheduleConfig) -> timedelta:
    """How far around a range the timeline is first computed: a turn of the longest layer."""
    return max(layer.rotation for layer in schedule.layers) + timedelta(days=1)


def _uncut(
    schedule: OncallScheduleConfig, covers: Sequence[Cover], start: datetime, end: datetime
) -> list[Shift]:
    """Shifts overlapping [start, end), computed over a range widened until none is cut."""
    if end <= start:
        return []
    reach = first_reach(schedule)
    while True:
        lo, hi = start - reach, end + reach
        kept = [s for s in _timeline(schedule, covers, lo, hi) if s.end > start and s.start < end]
        if (kept[0].start > lo and kept[-1].end < hi) or reach >= MAX_REACH:
            return kept
        reach = min(reach * 2, MAX_REACH)


def layer_turns(layer: LayerConfig, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """The layer's turns that overlap [start, end), unrestricted and uncut."""
    begin = _wall(start, zone)
    k = max((begin - layer.start) // layer.rotation - 1, 0)
    turns: list[Shift] = []
    count = len(layer.participants)
    while True:
        turn_start = _instant(layer.start + k * layer.rotation, zone)
        if turn_start >= end:
            return turns
        turn_end = _instant(layer.start + (k + 1) * layer.rotation, zone)
        if turn_end > start and turn_end > turn_start:
            user = layer.participants[k % count]
            turns.append(Shift(turn_start, turn_end, user, layer.name, turn=k))
        k += 1


def _layer(layer: LayerConfig, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    turns = layer_turns(layer, zone, start, end)
    if layer.restrict is None:
        return turns
    days = {DAYS.index(day) for day in layer.restrict.days}
    opens, closes = layer.restrict.bounds()
    windows = []
    day = _wall(start, zone).date() - timedelta(days=1)
    while day <= _wall(end, zone).date():
        if day.weekday() in days:
            close_day = day + timedelta(days=1) if closes <= opens else day
            windows.append(
                (
                    _instant(datetime.combine(day, opens), zone),
                    _instant(datetime.combine(close_day, closes), zone),
                )
            )
        day += timedelta(days=1)
    pieces = []
    for turn in turns:
        for w_start, w_end in windows:
            lo, hi = max(turn.start, w_start), min(turn.end, w_end)
            if lo < hi:
                pieces.append(replace(turn, start=lo, end=hi))
    return pieces


def _timeline(
    schedule: OncallScheduleConfig, covers: Sequence[Cover], start: datetime, end: datetime
) -> list[Shift]:
    zone = ZoneInfo(schedule.timezone)
    stack = [_layer(layer, zone, start, end) for layer in schedule.layers]
    stack.append(_overrides(covers, start, end))
    cuts = sorted({start, end} | {t for row in stack for s in row for t in (s.start, s.end)})
    cuts = [t for t in cuts if start <= t <= end]
    positions = [0] * len(stack)
    out: list[Shift] = []
    for lo, hi in pairwise(cuts):
        piece = Shift(lo, hi, None)
        for i in reversed(range(len(stack))):
            row, p = stack[i], positions[i]
            while p < len(row) and row[p].end <= lo:
                p += 1
            positions[i] = p
            if p < len(row) and row[p].start <= lo:
                piece = replace(row[p], start=lo, end=hi)
                break
        if out and out[-1].same_as(piece):
            out[-1] = replace(out[-1], end=hi)
        else:
            out.append(piece)
    return out


def _overrides(covers: Sequence[Cover], start: datetime, end: datetime) -> list[Shift]:
    """Overrides as one row of non-overlapping pieces, the newest on top where they overlap."""
    found = sorted((c for c in covers if c.end > start and c.start < end), key=lambda c: c.start)
    cuts = sorted({start, end} | {t for c in found for t in (c.start, c.end) if start < t < end})
    active: list[tuple[int, int]] = []  # (-id, index): the newest override on top
    row: list[Shift] = []
    i = 0
    for lo, hi in pairwise(cuts):
        while i < len(found) and found[i].start <= lo:
            heappush(active, (-found[i].id, i))
            i += 1
        while active and found[active[0][1]].end <= lo:
            heappop(active)  # expired ones below the top go when they surface
        if not active:
            continue
        top = found[active[0][1]]
        if row and row[-1].override_id == top.id and row[-1].end == lo:
            row[-1] = replace(row[-1], end=hi)
        else:
            row.append(Shift(lo, hi, top.user, override_id=top.id))
    return row


def _wall(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone).astimezone(UTC)
