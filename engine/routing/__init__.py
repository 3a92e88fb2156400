"""Routing: from stored changes and the passing of time to journeys started and signalled.

- `router`: the routing rules (`Router`): reserved events, scores, triggers and condition edges,
  back-fill counting, late date triggers, signals, time triggers;
- `account_cache`: the one read cache routing reads through (`AccountCache`), per run or for a
  private store's whole life;
- `core`: `RoutingCore`, which owns the router, the cache and the journey starter, and which
  every driver of routing (the API's background router, a simulation's timeline, the scheduler)
  drives.
"""

from engine.routing.account_cache import AccountCache, Lifetime
from engine.routing.core import RoutingCore
from engine.routing.router import RESERVED_EVENTS, Router, condition_key

__all__ = ["RESERVED_EVENTS", "AccountCache", "Lifetime", "Router", "RoutingCore", "condition_key"]
