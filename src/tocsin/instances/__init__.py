"""The processes serving one store: a row per worker, written by the worker and read by
`/readyz`, `/metrics` and (with several instances) lease recovery."""
