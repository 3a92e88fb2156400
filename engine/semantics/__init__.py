"""Core language semantics: what a playbook's expressions, scores, metrics and dates mean. Pure functions."""
