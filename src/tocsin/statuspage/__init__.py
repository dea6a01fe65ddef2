"""The public status page: components and their status (`components`, pure), what the store
says now (`service`), uptime over 90 days (`uptime`, pure), the Statuspage-shaped JSON
(`schemas`), and the static export (`export`)."""
