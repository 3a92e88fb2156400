"""Input: events and trait updates checked, coerced and stored, ready to route."""
