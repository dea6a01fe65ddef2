"""Incidents: a response to one or more alerts, with an id per day, a validated lifecycle,
roles, an append-only typed timeline, posted status updates and their cadence.

`service` declares and changes them (the boundary commits), `timeline` writes their events
(and hears of linked alerts' changes from `actions/alerts.py`), `cadence` claims due
reminders, `comms` writes their notifications, `schemas` says how one is shown
(`incident_summary`, `incident_detail`: what the console and the status page read)."""
