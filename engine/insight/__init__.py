"""Insight: an account's story (`playbook why`) and per-step analytics (`playbook stats`), read from the action log."""
