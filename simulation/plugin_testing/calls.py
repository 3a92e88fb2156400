"""`plugin_call(...)`: the `PluginCall` an activity receives, built for a plugin's unit tests.

    result = await create_task(params, plugin_call(account="acme", config=HubSpotConfig(...)))

The call's key is made the way the engine makes it (`<journey id>/<run id>/<step>`), and its
context holds an empty in-memory store and an empty bundle: enough for an activity that reads
its params, its call and its configuration, which is what a plugin should read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from activities.context import ActivityContext, CaptureMailer, PluginCall
from dsl import ir
from engine.routing.starter import JourneyStarter
from engine.store import Store

__all__ = ["plugin_call", "plugin_context"]

DEFAULT_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def plugin_context(store: Store | None = None, bundle: ir.Bundle | None = None) -> ActivityContext:
    """An activity context on `store` (default: a new in-memory one) with nothing deployed."""
    used = store if store is not None else Store.open("sqlite://")
    starter = JourneyStarter(None, "plugin-tests", used)  # type: ignore[arg-type]  # starts nothing
    return ActivityContext(store=used, bundle=bundle or ir.Bundle(model=ir.Model()), starter=starter,
                           mailer=CaptureMailer())


def plugin_call(*, account: str = "acme", playbook: str = "test_playbook", step: str = "day 0/0",
                run_id: str = "run-1", at: datetime = DEFAULT_AT, attempt: int = 1, config: Any = None,
                context: ActivityContext | None = None) -> PluginCall:
    """A step's call as the engine makes it: key `journey/<playbook>/<account>/<run id>/<step>`."""
    journey_id = f"journey/{playbook}/{account}"
    return PluginCall(context if context is not None else plugin_context(), f"{journey_id}/{run_id}/{step}",
                      account, playbook, at, journey_id=journey_id, run_id=run_id, step=step, attempt=attempt,
                      config=config)
