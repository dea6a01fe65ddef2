"""Operations reports: scheduled runs (rows claimed once across workers), their sections and
figures, rendering to Markdown, HTML and JSON, and posting through the outbox."""
