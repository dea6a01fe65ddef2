"""On-call: users, schedules of layered rotations, overrides, and who to page at an instant."""
