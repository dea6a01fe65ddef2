"""Inhibition: a firing source alert mutes matching targets that share the `equal` labels
(Alertmanager's inhibit_rules). The rules come from the configuration.

At scale (a storm of 10,000 open alerts) reading every open alert for each new target is
what not to do, so the store keeps an index of the open alerts that could be sources: one
`inhibit_source` row per (rule, source alert) with the hash of the source's `equal` label
values. A target then asks for the open sources of its applicable rules whose hash equals
the hash of its own `equal` values, an indexed look-up, and the pure `inhibitor` confirms.

A source can also begin after its targets fire (Alertmanager sends a batch in no order, a
severity rises, a rule is added). So the open alerts a rule targets are indexed the same
way, one `inhibit_target` row per (rule, target alert), and a source row is written with
`rescreen_at`: the worker's noise step reads the due ones by that index (nothing when idle),
finds the firing targets sharing their `equal` values by `targets`, mutes them and clears
it (noise/rescreen.py).

- `register` runs for every fired or severity-changed event (before any mute: a silenced
  source still inhibits, as in Alertmanager); `unregister` when the alert resolves.
- The key of a rule's source side is its source matchers and `equal` labels, of its target
  side its target matchers and `equal` labels, so editing one side keeps the other's
  index; a new or changed side starts empty and `backfill` (called by `noise.seed` at
  worker start and reload) fills it from the open alerts, once per configuration.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tocsin.alerts.lifecycle import OPEN
from tocsin.alerts.models import Alert
from tocsin.config.noise import InhibitRuleConfig
from tocsin.db import is_postgresql
from tocsin.matchers import Matcher, matches_all
from tocsin.noise.common import chunks
from tocsin.noise.decide import Candidate, InhibitRule, inhibitor, match_labels, parse_all
from tocsin.noise.models import InhibitSource, InhibitTarget, MutedAlert

Spec = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


class Keyed(NamedTuple):
    """A rule with the index keys of its two sides."""

    rule: InhibitRule
    key: str  # source matchers and `equal`: `inhibit_source.rule_key`
    target_key: str  # target matchers and `equal`: `inhibit_target.rule_key`


def rules_of(configs: Sequence[InhibitRuleConfig]) -> list[Keyed]:
    return _rules(
        tuple((tuple(c.source_matchers), tuple(c.target_matchers), tuple(c.equal)) for c in configs)
    )


@functools.lru_cache(maxsize=16)
def _rules(specs: tuple[Spec, ...]) -> list[Keyed]:
    """Parsed once per configuration, not once per alert."""
    out = []
    for source, target, equal in specs:
        rule = InhibitRule(tuple(parse_all(source)), tuple(parse_all(target)), equal)
        out.append(Keyed(rule, _side_key(rule.source, equal), _side_key(rule.target, equal)))
    return out


def _side_key(matchers: Iterable[Matcher], equal: Sequence[str]) -> str:
    side = json.dumps([sorted(str(m) for m in matchers), list(equal)])
    return hashlib.sha256(side.encode()).hexdigest()[:40]


def equal_key(rule: InhibitRule, labels: dict[str, str]) -> str:
    """The hash of the `equal` label values (missing counts as empty, as in Alertmanager)."""
    values = json.dumps([labels.get(name, "") for name in rule.equal])
    return hashlib.sha256(values.encode()).hexdigest()[:40]


def matching(
    session: Session, configs: Sequence[InhibitRuleConfig], alert: Alert, labels: dict[str, str]
) -> tuple[int, Candidate] | None:
    """The rule and open alert inhibiting `alert`, if any. Alerts no rule targets cost no
    query; the others one indexed look-up of the sources sharing their `equal` values."""
    keyed = rules_of(configs)
    wanted = [
        and_(InhibitSource.rule_key == key, InhibitSource.equal_key == equal)
        for key, equal in _wanted(keyed, labels)
    ]
    if not wanted:
        return None
    rows = session.execute(
        select(Alert.id, Alert.fingerprint, Alert.labels, Alert.check_name, Alert.severity)
        .where(
            Alert.id.in_(select(InhibitSource.alert_id).where(or_(*wanted))),
            Alert.state.in_(OPEN),
            Alert.id != alert.id,
        )
        .order_by(Alert.id)
    ).all()
    candidates = (
        Candidate(r.id, r.fingerprint, match_labels(r.labels, r.check_name, r.severity))
        for r in rows
    )
    return inhibitor([k.rule for k in keyed], alert.fingerprint, labels, candidates)


def _wanted(keyed: list[Keyed], labels: dict[str, str]) -> list[tuple[str, str]]:
    """The (rule key, equal key) pairs whose sources could inhibit a target with `labels`."""
    return [(k.key, equal_key(k.rule, labels)) for k in keyed if matches_all(k.rule.target, labels)]


def targets(
    session: Session,
    configs: Sequence[InhibitRuleConfig],
    sources: Sequence[InhibitSource],
    limit: int,
) -> list[int]:
    """Ids of the firing alerts nothing mutes yet that `sources` could inhibit: targeted by
    their rules and sharing their `equal` values (one indexed look-up), at most `limit`,
    lowest first. The sources themselves may be among them: `matching` confirms each."""
    by_side: dict[str, set[str]] = {}
    for k in rules_of(configs):
        by_side.setdefault(k.key, set()).add(k.target_key)
    pairs = {(target, s.equal_key) for s in sources for target in by_side.get(s.rule_key, ())}
    if not pairs:
        return []
    wanted = or_(
        *(
            and_(InhibitTarget.rule_key == key, InhibitTarget.equal_key == equal)
            for key, equal in sorted(pairs)
        )
    )
    return list(
        session.scalars(
            select(Alert.id)
            .where(
                Alert.id.in_(select(InhibitTarget.alert_id).where(wanted)),
                Alert.state == "firing",
                ~exists().where(MutedAlert.alert_id == Alert.id),
            )
            .order_by(Alert.id)
            .limit(limit)
        )
    )


class Sources:
    """`register` then `matching` for each alert of a batch of fired alerts, in turn, with
    one read: the open sources any of them could be inhibited by are read once, and each
    alert registered becomes a source for the alerts after it, exactly as one by one. The
    batch's own rows are written by `write`, at the end."""

    def __init__(
        self,
        session: Session,
        configs: Sequence[InhibitRuleConfig],
        batch: Sequence[tuple[Alert, dict[str, str]]],
    ) -> None:
        self._keyed = rules_of(configs)
        self._rules = [k.rule for k in self._keyed]
        self._rows: list[dict[str, Any]] = []
        self._targets: list[dict[str, Any]] = []
        self._by_pair: dict[tuple[str, str], dict[int, Candidate]] = {}
        wanted = {pair for _, labels in batch for pair in _wanted(self._keyed, labels)}
        equal_keys = sorted({equal for _, equal in wanted})
        for some in chunks(equal_keys):
            query = (
                select(
                    InhibitSource.rule_key,
                    InhibitSource.equal_key,
                    Alert.id,
                    Alert.fingerprint,
                    Alert.labels,
                    Alert.check_name,
                    Alert.severity,
                )
                .join(Alert, Alert.id == InhibitSource.alert_id)
                .where(InhibitSource.equal_key.in_(some), Alert.state.in_(OPEN))
            )
            for r in session.execute(query):
                if (r.rule_key, r.equal_key) in wanted:
                    labels = match_labels(r.labels, r.check_name, r.severity)
                    self._add((r.rule_key, r.equal_key), Candidate(r.id, r.fingerprint, labels))

    def _add(self, pair: tuple[str, str], candidate: Candidate) -> None:
        self._by_pair.setdefault(pair, {})[candidate.alert_id] = candidate

    def register(self, alert: Alert, labels: dict[str, str], now: datetime) -> None:
        """As `register` (not `changed`): from now on `alert` may inhibit the others."""
        rows = _rows_for(self._keyed, alert.id, labels, now)
        self._rows.extend(rows)
        self._targets.extend(_target_rows_for(self._keyed, alert.id, labels))
        if alert.state in OPEN:
            for row in rows:
                pair = (row["rule_key"], row["equal_key"])
                self._add(pair, Candidate(alert.id, alert.fingerprint, labels))

    def matching(self, alert: Alert, labels: dict[str, str]) -> tuple[int, Candidate] | None:
        """As `matching`: the open sources sharing the alert's keys, by id, itself excepted."""
        found: dict[int, Candidate] = {}
        for pair in _wanted(self._keyed, labels):
            found.update(self._by_pair.get(pair, {}))
        found.pop(alert.id, None)
        if not found:
            return None
        candidates = [found[alert_id] for alert_id in sorted(found)]
        return inhibitor(self._rules, alert.fingerprint, labels, candidates)

    def write(self, session: Session) -> None:
        for some in chunks(self._rows):
            _insert(session, InhibitSource, some)
        for some in chunks(self._targets):
            _insert(session, InhibitTarget, some)


def register(
    session: Session,
    configs: Sequence[InhibitRuleConfig],
    alert: Alert,
    labels: dict[str, str],
    now: datetime,
    *,
    changed: bool = False,
) -> None:
    """Index `alert` under every rule whose source (or target) matchers it matches; as a
    source it is due for the worker's rescreen at `now`. `changed`: its severity changed,
    so rules it matched before may no longer apply."""
    if changed:
        unregister(session, alert.id)
    keyed = rules_of(configs)
    _insert(session, InhibitSource, _rows_for(keyed, alert.id, labels, now))
    _insert(session, InhibitTarget, _target_rows_for(keyed, alert.id, labels))


def unregister(session: Session, alert_id: int) -> None:
    session.execute(delete(InhibitSource).where(InhibitSource.alert_id == alert_id))
    session.execute(delete(InhibitTarget).where(InhibitTarget.alert_id == alert_id))


def backfill(session: Session, configs: Sequence[InhibitRuleConfig], now: datetime) -> int:
    """Index every open alert that could be a source or a target (one read of the open
    alerts); rows already there are kept, new source rows are due for the rescreen.
    Returns how many rows the open alerts need."""
    keyed = rules_of(configs)
    if not keyed:
        return 0
    query = select(Alert.id, Alert.labels, Alert.check_name, Alert.severity).where(
        Alert.state.in_(OPEN)
    )
    rows: list[dict[str, Any]] = []
    targeted: list[dict[str, Any]] = []
    for r in session.execute(query):
        labels = match_labels(r.labels, r.check_name, r.severity)
        rows.extend(_rows_for(keyed, r.id, labels, now))
        targeted.extend(_target_rows_for(keyed, r.id, labels))
    for some in chunks(rows):
        _insert(session, InhibitSource, some)
    for some in chunks(targeted):
        _insert(session, InhibitTarget, some)
    return len(rows) + len(targeted)


def _rows_for(
    keyed: list[Keyed], alert_id: int, labels: dict[str, str], now: datetime
) -> list[dict[str, Any]]:
    rows = {
        k.key: {
            "rule_key": k.key,
            "alert_id": alert_id,
            "equal_key": equal_key(k.rule, labels),
            "rescreen_at": now,
        }
        for k in keyed
        if matches_all(k.rule.source, labels)
    }
    return list(rows.values())


def _target_rows_for(
    keyed: list[Keyed], alert_id: int, labels: dict[str, str]
) -> list[dict[str, Any]]:
    rows = {
        k.target_key: {
            "rule_key": k.target_key,
            "alert_id": alert_id,
            "equal_key": equal_key(k.rule, labels),
        }
        for k in keyed
        if matches_all(k.rule.target, labels)
    }
    return list(rows.values())


def _insert(
    session: Session, model: type[InhibitSource | InhibitTarget], rows: Iterable[dict[str, Any]]
) -> None:
    """Insert, leaving rows another worker (or an earlier pass) wrote alone."""
    rows = list(rows)
    if not rows:
        return
    insert = pg_insert if is_postgresql(session) else sqlite_insert
    session.execute(insert(model).values(rows).on_conflict_do_nothing())
