"""The operator console's own state: passwords, sessions and the audit log."""
