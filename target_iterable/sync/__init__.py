"""Sync state: what Iterable acknowledged before, so a run sends only what changed."""
