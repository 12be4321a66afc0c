"""Hostile input: manifests, URL bodies and connections from an attacker or a careless user (issue 16)."""
