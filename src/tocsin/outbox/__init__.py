"""The outbox: notification rows written with the transition that causes them, then claimed,
sent by the worker outside any transaction, and recorded.

`models` holds the row, `payload` what a row carries to a channel, `service` writes, claims
and records rows, `doorbell` wakes the sender after a commit, `digest` collects parked rows
into the daily digest. Noise control, escalation and the pipeline write here; `notify/` (the
channels) reads the rows' messages and knows nothing of the store.
"""
