"""Inhibition: a firing source alert mutes matching targets that share the `equal` labels
(Alertmanager's inhibit_rules). The rules come from the configuration; the candidates are
the open alerts in the store."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.lifecycle import OPEN
from tocsin.alerts.models import Alert
from tocsin.config import InhibitRuleConfig
from tocsin.matchers import matches_all
from tocsin.noise.decide import Candidate, InhibitRule, inhibitor, match_labels, parse_all

Spec = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def rules_of(configs: Sequence[InhibitRuleConfig]) -> list[InhibitRule]:
    return _rules(
        tuple((tuple(c.source_matchers), tuple(c.target_matchers), tuple(c.equal)) for c in configs)
    )


@functools.lru_cache(maxsize=16)
def _rules(specs: tuple[Spec, ...]) -> list[InhibitRule]:
    """Parsed once per configuration, not once per alert."""
    return [
        InhibitRule(tuple(parse_all(source)), tuple(parse_all(target)), equal)
        for source, target, equal in specs
    ]


def matching(
    session: Session, configs: Sequence[InhibitRuleConfig], alert: Alert, labels: dict[str, str]
) -> tuple[int, Candidate] | None:
    """The rule and open alert inhibiting `alert`, if any. Open alerts are read only when a
    rule's target matchers match, so alerts no rule targets cost no query."""
    rules = rules_of(configs)
    if not any(matches_all(r.target, labels) for r in rules):
        return None
    rows = session.execute(
        select(Alert.id, Alert.fingerprint, Alert.labels, Alert.check_name, Alert.severity)
        .where(Alert.state.in_(OPEN), Alert.id != alert.id)
        .order_by(Alert.id)
    ).all()
    candidates = (
        Candidate(r.id, r.fingerprint, match_labels(r.labels, r.check_name, r.severity))
        for r in rows
    )
    return inhibitor(rules, alert.fingerprint, labels, candidates)
