"""Runbooks: Markdown procedures parsed into numbered steps and executable blocks, linted and
rendered as pages."""
