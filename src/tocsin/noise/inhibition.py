"""Inhibition: a firing source alert mutes matching targets that share the `equal` labels
(Alertmanager's inhibit_rules). The rules come from the configuration.

At scale (a storm of 10,000 open alerts) reading every open alert for each new target is
what not to do, so the store keeps an index of the open alerts that could be sources: one
`inhibit_source` row per (rule, source alert) with the hash of the source's `equal` label
values. A target then asks for the open sources of its applicable rules whose hash equals
the hash of its own `equal` values, an indexed look-up, and the pure `inhibitor` confirms.

- `register` runs for every fired or severity-changed event (before any mute: a silenced
  source still inhibits, as in Alertmanager); `unregister` when the alert resolves.
- The key of a rule is its source matchers and `equal` labels (not its targets), so
  editing a rule's targets keeps its index; a new or changed source side starts empty and
  `backfill` (called by `noise.seed` at worker start and reload) fills it from the open
  alerts, once per configuration.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tocsin.alerts.lifecycle import OPEN
from tocsin.alerts.models import Alert
from tocsin.config import InhibitRuleConfig
from tocsin.db import is_postgresql
from tocsin.matchers import matches_all
from tocsin.noise.common import chunks
from tocsin.noise.decide import Candidate, InhibitRule, inhibitor, match_labels, parse_all
from tocsin.noise.models import InhibitSource

Spec = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
Keyed = list[tuple[InhibitRule, str]]  # each rule with its index key


def rules_of(configs: Sequence[InhibitRuleConfig]) -> Keyed:
    return _rules(
        tuple((tuple(c.source_matchers), tuple(c.target_matchers), tuple(c.equal)) for c in configs)
    )


@functools.lru_cache(maxsize=16)
def _rules(specs: tuple[Spec, ...]) -> Keyed:
    """Parsed once per configuration, not once per alert."""
    out = []
    for source, target, equal in specs:
        rule = InhibitRule(tuple(parse_all(source)), tuple(parse_all(target)), equal)
        side = json.dumps([sorted(str(m) for m in rule.source), list(equal)])
        out.append((rule, hashlib.sha256(side.encode()).hexdigest()[:40]))
    return out


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
    return inhibitor([rule for rule, _ in keyed], alert.fingerprint, labels, candidates)


def _wanted(keyed: Keyed, labels: dict[str, str]) -> list[tuple[str, str]]:
    """The (rule key, equal key) pairs whose sources could inhibit a target with `labels`."""
    return [
        (key, equal_key(rule, labels)) for rule, key in keyed if matches_all(rule.target, labels)
    ]


class Sources:
    """`register` then `matching` for each alert of a batch of fired alerts, in turn, with
    one read: the open sources any of them could be inhibited by are read once, and each
    alert registered becomes a source for the alerts after it, exactly as one by one. The
    batch's own rows are written by `write`, at the end."""

    def __init__(
        self,
        session: Session,
        configs: Sequence[InhibitRuleConfig],
        targets: Sequence[tuple[Alert, dict[str, str]]],
    ) -> None:
        self._keyed = rules_of(configs)
        self._rules = [rule for rule, _ in self._keyed]
        self._rows: list[dict[str, Any]] = []
        self._by_pair: dict[tuple[str, str], dict[int, Candidate]] = {}
        wanted = {pair for _, labels in targets for pair in _wanted(self._keyed, labels)}
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

    def register(self, alert: Alert, labels: dict[str, str]) -> None:
        """As `register` (not `changed`): from now on `alert` may inhibit the others."""
        rows = _rows_for(self._keyed, alert.id, labels)
        self._rows.extend(rows)
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
            _insert(session, some)


def register(
    session: Session,
    configs: Sequence[InhibitRuleConfig],
    alert: Alert,
    labels: dict[str, str],
    *,
    changed: bool = False,
) -> None:
    """Index `alert` under every rule whose source matchers it matches. `changed`: its
    severity changed, so rules it matched before may no longer apply."""
    if changed:
        unregister(session, alert.id)
    _insert(session, _rows_for(rules_of(configs), alert.id, labels))


def unregister(session: Session, alert_id: int) -> None:
    session.execute(delete(InhibitSource).where(InhibitSource.alert_id == alert_id))


def backfill(session: Session, configs: Sequence[InhibitRuleConfig]) -> int:
    """Index every open alert that could be a source (one read of the open alerts); rows
    already there are kept. Returns how many rows the open sources need."""
    keyed = rules_of(configs)
    if not keyed:
        return 0
    query = select(Alert.id, Alert.labels, Alert.check_name, Alert.severity).where(
        Alert.state.in_(OPEN)
    )
    rows: list[dict[str, Any]] = []
    for r in session.execute(query):
        rows.extend(_rows_for(keyed, r.id, match_labels(r.labels, r.check_name, r.severity)))
    for first in range(0, len(rows), 500):
        _insert(session, rows[first : first + 500])
    return len(rows)


def _rows_for(keyed: Keyed, alert_id: int, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"rule_key": key, "alert_id": alert_id, "equal_key": equal_key(rule, labels)}
        for rule, key in keyed
        if matches_all(rule.source, labels)
    ]


def _insert(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Insert, leaving rows another worker (or an earlier pass) wrote alone."""
    rows = list(rows)
    if not rows:
        return
    insert = pg_insert if is_postgresql(session) else sqlite_insert
    session.execute(insert(InhibitSource).values(rows).on_conflict_do_nothing())
