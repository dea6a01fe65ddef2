"""The one entry point the pipeline calls for every alert event: may it notify, and how.

Order (DESIGN): maintenance → known issue → silence → inhibition → flapping → grouping →
routing. The first suppression that applies is recorded on the alert's timeline (a
`suppressed` event naming the kind and id) and in `muted_alert` with when to look again, so
"why was I not paged?" has an answer and an alert muted by a silence that ends while it
still fires is notified then.

Follow-ups (acknowledged, resolved) are never screened: they go to exactly the channels
that were told the alert fired (Alertmanager #226/#2754: the people paged get the resolved
notice even if a silence started meanwhile), and nowhere if nobody was told. A grouped
alert's follow-ups go to its group, whose next flush announces them (see `grouping`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, AlertEvent
from tocsin.config.model import TocsinConfig
from tocsin.config.noise import FlappingConfig
from tocsin.noise import flapping, grouping, inhibition, known_issues, maintenance, silences
from tocsin.noise.common import chunks, count_suppressed
from tocsin.noise.decide import Candidate, Flap, match_labels
from tocsin.noise.models import (
    KnownIssue,
    MaintenanceWindow,
    MutedAlert,
    Silence,
)
from tocsin.noise.mutes import timeline_note, told_channels, wake_inhibited

SCREENED_KINDS = ("fired", "severity_changed")
FOLLOW_UP_KINDS = ("acknowledged", "resolved")


@dataclass(frozen=True)
class Verdict:
    """What the pipeline does with one event. `suppressed`: nothing. `grouped`: hand it to
    `noise.hold_in_group`. Otherwise enqueue it, to `channels` when given (the channels
    that were told) else to what routing chooses."""

    suppressed: bool
    kind: str | None = None  # maintenance | known_issue | silence | inhibition | flapping | …
    ref: str | None = None  # the id of what decided
    reason: str = ""
    grouped: bool = False
    channels: tuple[str, ...] | None = None


NOTIFY = Verdict(False)


@dataclass(frozen=True)
class _Mute:
    kind: str
    ref: str
    reason: str
    recheck_at: datetime | None


def screen(
    session: Session, config: TocsinConfig, alert: Alert, event: AlertEvent, now: datetime
) -> Verdict:
    """Decide for one event and record the decision; writes in the caller's transaction."""
    if event.kind in FOLLOW_UP_KINDS:
        return _follow_up(session, config, alert, event, now)
    if event.kind not in SCREENED_KINDS:
        return NOTIFY
    return _screen(session, config, alert, event, now, _Reads(session, config))


class _Reads:
    """What screening a fired or severity-changed event reads from the store and counts,
    here one alert at a time; `Screening` serves a batch from reads made once."""

    def __init__(self, session: Session, config: TocsinConfig) -> None:
        self.session, self.config = session, config

    def register(
        self, alert: Alert, labels: dict[str, str], now: datetime, *, changed: bool
    ) -> None:
        rules = self.config.inhibit_rules
        inhibition.register(self.session, rules, alert, labels, now, changed=changed)

    def muted(self, alert: Alert) -> MutedAlert | None:
        return self.session.get(MutedAlert, alert.id)

    def record_flap(self, spec: FlappingConfig, alert: Alert, now: datetime) -> Flap:
        return flapping.record_change(self.session, spec, alert.fingerprint, now)

    def quiet_until(self, spec: FlappingConfig, alert: Alert, now: datetime) -> datetime | None:
        return flapping.quiet_until(self.session, spec, alert.fingerprint, now)

    def inhibitor(self, alert: Alert, labels: dict[str, str]) -> tuple[int, Candidate] | None:
        return inhibition.matching(self.session, self.config.inhibit_rules, alert, labels)

    def count(self, kind: str, ref: str) -> None:
        model = _COUNTED.get(kind)
        if model is not None:
            count_suppressed(self.session, model, ref)


class Screening(_Reads):
    """`screen` for a batch of fired events of distinct alerts and fingerprints, in order,
    with the same decisions and rows as one by one but a bounded number of queries: the
    muted rows, flapping series and inhibiting sources of the whole batch are read once
    (silences, windows and known issues are read once per transaction anyway), and the
    inhibition index rows and the counters of what muted how many are written by `finish`.
    Nothing it reads depends on another alert's pending rows, so the caller may hold
    autoflush off until the end."""

    def __init__(
        self, session: Session, config: TocsinConfig, batch: Sequence[tuple[Alert, AlertEvent]]
    ) -> None:
        super().__init__(session, config)
        if not batchable(batch):
            raise ValueError("a screening batch is fired events of distinct alerts")
        alerts = [alert for alert, _ in batch]
        self._muted = {
            row.alert_id: row
            for some in chunks([a.id for a in alerts])
            for row in session.scalars(select(MutedAlert).where(MutedAlert.alert_id.in_(some)))
        }
        self._flaps = (
            flapping.load(session, [a.fingerprint for a in alerts]) if config.flapping else {}
        )
        self._sources = (
            inhibition.Sources(session, config.inhibit_rules, [(a, _labels(a)) for a in alerts])
            if config.inhibit_rules
            else None
        )
        self._counts: Counter[tuple[str, str]] = Counter()

    def screen(self, alert: Alert, event: AlertEvent, now: datetime) -> Verdict:
        return _screen(self.session, self.config, alert, event, now, self)

    def finish(self) -> None:
        """Write what the batch deferred: its inhibition index rows and counters."""
        if self._sources is not None:
            self._sources.write(self.session)
        for (kind, ref), alerts in self._counts.items():
            count_suppressed(self.session, _COUNTED[kind], ref, alerts)

    def register(
        self, alert: Alert, labels: dict[str, str], now: datetime, *, changed: bool
    ) -> None:
        assert self._sources is not None
        assert not changed  # a batch holds fired events only
        self._sources.register(alert, labels, now)

    def muted(self, alert: Alert) -> MutedAlert | None:
        return self._muted.get(alert.id)

    def record_flap(self, spec: FlappingConfig, alert: Alert, now: datetime) -> Flap:
        row = self._flaps.get(alert.fingerprint)
        flap, self._flaps[alert.fingerprint] = flapping.record(
            self.session, spec, row, alert.fingerprint, now
        )
        return flap

    def quiet_until(self, spec: FlappingConfig, alert: Alert, now: datetime) -> datetime | None:
        return flapping.quiet(spec, self._flaps.get(alert.fingerprint), now)

    def inhibitor(self, alert: Alert, labels: dict[str, str]) -> tuple[int, Candidate] | None:
        assert self._sources is not None
        return self._sources.matching(alert, labels)

    def count(self, kind: str, ref: str) -> None:
        if kind in _COUNTED:
            self._counts[(kind, ref)] += 1


def batchable(batch: Sequence[tuple[Alert, AlertEvent]]) -> bool:
    """Can `Screening` take this batch: fired events only, each alert and fingerprint once
    (one alert's screening then never reads what another's wrote)."""
    ids = {alert.id for alert, _ in batch}
    fingerprints = {alert.fingerprint for alert, _ in batch}
    return (
        all(event.kind == "fired" for _, event in batch)
        and len(ids) == len(batch)
        and len(fingerprints) == len(batch)
    )


def _labels(alert: Alert) -> dict[str, str]:
    return match_labels(alert.labels, alert.check_name, alert.severity)


def _screen(
    session: Session,
    config: TocsinConfig,
    alert: Alert,
    event: AlertEvent,
    now: datetime,
    reads: _Reads,
) -> Verdict:
    muted = reads.muted(alert)
    fresh = muted is None or muted.event_id != event.id  # not a re-check of a held event
    if config.inhibit_rules and fresh:  # a muted alert still inhibits others (Alertmanager)
        changed = event.kind == "severity_changed"
        reads.register(alert, _labels(alert), now, changed=changed)
        if changed:  # it may no longer inhibit the alerts it did
            wake_inhibited(session, alert.id, now)
    flap = None
    if config.flapping is not None and event.kind == "fired" and fresh:
        flap = reads.record_flap(config.flapping, alert, now)
    mute = _first_mute(
        session, config, alert, now, reads, flap_started=flap is not None and flap.started
    )
    if mute is not None:
        _record_mute(session, alert, event, muted, mute, now, reads)
        return Verdict(True, mute.kind, mute.ref, mute.reason)
    if muted is not None:
        session.delete(muted)
        timeline_note(
            session, alert, "released", now, f"no longer muted by {muted.kind} {muted.ref}"
        )
    if flap is not None and flap.started:
        _mark_flapping(config, event, len(flap.changes))
    if config.grouping is not None:
        return Verdict(False, "grouped", reason="waits for its group's flush", grouped=True)
    return NOTIFY


def _mark_flapping(config: TocsinConfig, event: AlertEvent, changes: int) -> None:
    """The one notification that says the series flaps (the event's note is in its payload)."""
    assert config.flapping is not None
    note = (
        f"flapping: {changes} state changes within {config.flapping.window}; "
        f"quiet until stable for {config.flapping.stable_for}"
    )
    event.note = f"{event.note}; {note}" if event.note else note
    event.data = {**event.data, "flapping": True}


def _first_mute(
    session: Session,
    config: TocsinConfig,
    alert: Alert,
    now: datetime,
    reads: _Reads,
    *,
    flap_started: bool,
) -> _Mute | None:
    labels = _labels(alert)
    window = maintenance.matching(session, labels, now)
    if window is not None:
        row, until = window
        return _Mute("maintenance", row.id, f"maintenance window “{row.title}”", until)
    issue = known_issues.matching(session, labels, f"{alert.title}\n{alert.message}", now)
    if issue is not None:
        return _Mute("known_issue", issue.id, f"known issue: {issue.reason}", issue.expires_at)
    silence = silences.matching(session, labels, now)
    if silence is not None:
        found, until = silence
        return _Mute("silence", found.id, f"silenced by {found.created_by}: {found.comment}", until)
    if config.inhibit_rules:
        hit = reads.inhibitor(alert, labels)
        if hit is not None:
            index, source = hit
            reason = f"inhibited by alert {source.alert_id} (inhibit_rules[{index}])"
            # No timer: the source's resolution wakes it (see _follow_up).
            return _Mute("inhibition", str(source.alert_id), reason, None)
    if config.flapping is not None and not flap_started:
        quiet = reads.quiet_until(config.flapping, alert, now)
        if quiet is not None:
            return _Mute("flapping", alert.fingerprint, "flapping; quiet until stable", quiet)
    return None


_COUNTED: dict[str, type[Silence | MaintenanceWindow | KnownIssue]] = {
    "silence": Silence,
    "maintenance": MaintenanceWindow,
    "known_issue": KnownIssue,
}


def _record_mute(
    session: Session,
    alert: Alert,
    event: AlertEvent,
    muted: MutedAlert | None,
    mute: _Mute,
    now: datetime,
    reads: _Reads,
) -> None:
    """Keep one muted row per alert; a new reason (not a re-check finding the same one) is
    a timeline event and counts once on the silence, window or known issue."""
    same = muted is not None and (muted.kind, muted.ref) == (mute.kind, mute.ref)
    if muted is None:
        session.add(
            MutedAlert(
                alert_id=alert.id,
                event_id=event.id,
                kind=mute.kind,
                ref=mute.ref,
                since=now,
                recheck_at=mute.recheck_at,
                data={"reason": mute.reason},
            )
        )
    else:
        muted.event_id = event.id
        muted.kind, muted.ref, muted.recheck_at = mute.kind, mute.ref, mute.recheck_at
        muted.data = {"reason": mute.reason}
    if same:
        return
    reads.count(mute.kind, mute.ref)
    timeline_note(
        session,
        alert,
        "suppressed",
        now,
        mute.reason,
        {"by": mute.kind, "id": mute.ref, "event": event.kind},
    )


def _follow_up(
    session: Session, config: TocsinConfig, alert: Alert, event: AlertEvent, now: datetime
) -> Verdict:
    flap = None
    if event.kind == "resolved":
        if config.flapping is not None:
            flap = flapping.record_change(session, config.flapping, alert.fingerprint, now)
        session.execute(delete(MutedAlert).where(MutedAlert.alert_id == alert.id))
        inhibition.unregister(session, alert.id)
        wake_inhibited(session, alert.id, now)
    if grouping.group_of(session, alert.id) is not None:
        if flap is not None and flap.started:  # the group's flush carries the notice
            _mark_flapping(config, event, len(flap.changes))
        what = "resolution" if event.kind == "resolved" else "acknowledgement"
        return Verdict(False, "grouped", reason=f"{what} reported by its group", grouped=True)
    told = told_channels(session, alert.id)
    if told:
        if flap is not None and flap.started:  # announced on the resolution those told get
            _mark_flapping(config, event, len(flap.changes))
        return Verdict(False, channels=tuple(told))
    reason = f"nobody was told it fired, so nobody is told it was {event.kind}"
    timeline_note(session, alert, "suppressed", now, reason, {"by": "never_notified"})
    return Verdict(True, "never_notified", reason=reason)
