"""Replaying and auditing the log: what was known when, what changed, was it altered."""
