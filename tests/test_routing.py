"""The route tree (Alertmanager's semantics) and §6.2.1's matrix as the default. Pure."""

from __future__ import annotations

import pytest

from tocsin.config import TocsinConfig, parse
from tocsin.errors import ConfigError
from tocsin.routing import Router, match_labels, merge

CHANNELS = """
channels:
  pd: {type: pagerduty, routing_key: K}
  phone: {type: twilio, mode: voice, account_sid: AC1, auth_token: t, from_number: "+1", to: ["+2"]}
  sms: {type: twilio, account_sid: AC1, auth_token: t, from_number: "+1", to: ["+2", "+3"]}
  discord: {type: discord, url: "http://127.0.0.1:9/d"}
  slack: {type: slack, url: "http://127.0.0.1:9/s"}
  mail: {type: email, host: 127.0.0.1, from_address: t@example.com, to: [ops@example.com]}
  log: {type: console}
"""


def config(text: str = "") -> TocsinConfig:
    return parse(CHANNELS + text, "t.yaml", env={})[0]


def where(cfg: TocsinConfig, severity: str, **labels: str) -> tuple[list[str], ...]:
    return merge(Router(cfg).route(match_labels(labels, severity, "c", "check")))


def test_the_default_routes_are_the_6_2_1_matrix() -> None:
    cfg = config()
    assert where(cfg, "CRITICAL") == (["pd", "phone", "sms", "discord", "log"], [], [])
    assert where(cfg, "HIGH") == (["discord", "mail", "slack", "log"], [], [])
    assert where(cfg, "WARNING") == (["discord", "mail", "log"], [], [])
    assert where(cfg, "INFO") == (["log"], ["mail"], [])


def test_the_default_matrix_escalates_with_policies_named_after_severities() -> None:
    cfg = config(
        """
escalation_policies:
  critical: {steps: [{after: 0m, notify: [pd]}, {after: 5m, notify: [phone]}]}
  warning: {steps: [{after: 2h, notify: [mail]}]}
"""
    )
    assert where(cfg, "CRITICAL")[2] == ["critical"]
    assert where(cfg, "HIGH")[2] == []
    assert where(cfg, "WARNING")[2] == ["warning"]


def test_a_severity_no_configured_channel_serves_goes_everywhere() -> None:
    cfg = parse("channels: {a: {type: console}, b: {type: console}}", "t.yaml", env={})[0]
    assert where(cfg, "CRITICAL") == (["a", "b"], [], [])
    assert where(cfg, "INFO") == (["a", "b"], [], [])


TREE = """
escalation_policies:
  payments: {steps: [{notify: [pd]}]}
routes:
  notify: [log]
  routes:
    - matchers: ['service="payments"']
      notify: [pd]
      escalation: payments
      routes:
        - matchers: ['severity=~"WARNING|INFO"']
          notify: [mail]
    - matchers: ['team="web"']
      notify: [slack]
      continue: true
    - matchers: ['severity="CRITICAL"']
      notify: [phone]
    - matchers: ['team="web"']
      notify: [discord]
"""


def test_first_match_wins_children_inherit_and_the_root_catches_the_rest() -> None:
    cfg = config(TREE)
    assert where(cfg, "CRITICAL", service="payments") == (["pd"], [], ["payments"])
    # The nested child inherits its parent's escalation.
    assert where(cfg, "WARNING", service="payments") == (["mail"], [], ["payments"])
    assert where(cfg, "CRITICAL", service="api") == (["phone"], [], [])
    assert where(cfg, "HIGH", service="api") == (["log"], [], [])


def test_continue_lets_later_siblings_match_too() -> None:
    cfg = config(TREE)
    assert where(cfg, "CRITICAL", team="web") == (["slack", "phone"], [], [])
    assert where(cfg, "HIGH", team="web") == (["slack", "discord"], [], [])


def test_routes_match_on_check_and_origin_too() -> None:
    cfg = config(
        "routes: {notify: [log], routes: [{matchers: ['check=~\"pay.*\"'], notify: [pd]}]}"
    )
    router = Router(cfg)
    assert merge(router.route(match_labels({}, "HIGH", "payments_stopped", "check")))[0] == ["pd"]
    assert merge(router.route(match_labels({}, "HIGH", "cost", "check")))[0] == ["log"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("routes: {notify: [nope]}", "routes.notify: channel 'nope' does not exist"),
        ("routes: {escalation: x}", "routes.escalation: policy 'x' does not exist"),
        ("routes: {matchers: ['service=~\"(\"']}", "bad regular expression"),
        ("routes: {routes: [{notify: [pd], digest: true}]}", "a digest goes by email or console"),
        (
            "escalation_policies: {p: {steps: [{notify: [team:ops]}]}}",
            "target 'team:ops' is not user:NAME, schedule:NAME or schedule:NAME:backup",
        ),
        (
            "escalation_policies: {p: {steps: [{after: 5m, notify: [pd]},"
            " {after: 1m, notify: [pd]}]}}",
            "steps must be in order",
        ),
        ("escalation_policies: {p: {steps: [{notify: [pd], via: [fax]}]}}", "'fax' does not exist"),
        (
            "escalation_policies: {p: {steps: [{notify: ['user:nobody']}]}}",
            "target 'user:nobody'",
        ),
        ("notifications: {fallback: [pager]}", "notifications.fallback: channel 'pager'"),
        ("notifications: {digest_at: '25:00'}", "digest_at"),
    ],
)
def test_bad_routing_config_is_refused_with_file_line_and_path(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(CHANNELS + text, "t.yaml", env={})
    assert message in str(caught.value)
    assert "t.yaml:" in str(caught.value)
