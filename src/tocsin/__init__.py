"""Tocsin: alerting, escalation and incident response."""
