"""Credentials kept in the store: API tokens (hashed, scoped) and the server's own secrets."""
