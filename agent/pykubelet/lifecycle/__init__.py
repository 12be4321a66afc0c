"""When containers start again and how they stop: restart policy, back-off, grace periods, hooks."""
