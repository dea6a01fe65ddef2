"""The one door for state changes (Zulip's do_* functions): every change of an alert, and
every check evaluation written, is one function here, composing the domains in the caller's
transaction. Incidents, runbooks and the console change alerts through `actions.alerts` and
nowhere else; what else must happen whenever an alert changes goes in `alerts._after`."""

from tocsin.actions import alerts, checks, incidents, runbook_rot, runbooks, slos

__all__ = ["alerts", "checks", "incidents", "runbook_rot", "runbooks", "slos"]
