"""Escalation: a policy copied onto an alert, each step a due row fired by the worker."""
