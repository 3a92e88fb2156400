"""A journey runs each activity with the timeout and attempts its registry entry declares."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType

from activities.context import ActivityContext, CaptureMailer, PluginCall
from activities.plugin_catalog import plugin_catalog
from activities.registry import ActivitySpec, Registry, load_registry
from dsl import ir
from dsl.project import compile_folder
from engine.decision_text import failure_text
from engine.records import StartJourney
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.workflows.payloads import JourneyOutcome
from tests.live_api import time_skipping
from workers.runtime import build_worker

MODEL = """\
account fields:
    name: text

events:
    signed
"""

PLAYBOOK = """\
playbook flaky_call "Calls a flaky service":
    trigger: event signed

    day 0:
        do flaky.call text="Hello {{ account.name }}"
"""


class FlakyParams(BaseModel):
    """Call a service that is always down."""

    text: str


class ServiceDown(Exception):
    """Retried: the service may come back."""


def _registry(calls: list[str]) -> Registry:
    async def call(params: FlakyParams, _call: PluginCall) -> None:
        calls.append(params.text)
        raise ServiceDown("503 from the flaky service")

    registry = load_registry(only={"builtin"})  # the engine's own activities, no installed plugin
    registry.add(ActivitySpec(name="flaky.call", fn=call, params=FlakyParams, description="Call the flaky service.",
                              timeout=timedelta(seconds=7), max_attempts=3))
    return registry


def _bundle(root: Path, registry: Registry) -> ir.Bundle:
    root.mkdir(parents=True)
    (root / "model.play").write_text(MODEL)
    (root / "flaky.play").write_text(PLAYBOOK)
    compilation = compile_folder(root, plugins=plugin_catalog(registry))
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return compilation.bundle


async def test_a_plugins_declared_attempts_and_timeout_are_what_temporal_applies(tmp_path: Path, store: Store) -> None:
    calls: list[str] = []
    registry = _registry(calls)
    bundle = _bundle(tmp_path / "playbooks", registry)
    env = await time_skipping()
    async with env:
        at = (await env.get_current_time()).replace(microsecond=0)  # entered now: its steps are due, not late
        store.add_change("acme", at, event=None, data={}, event_id=None, traits={"name": "Acme"})
        starter = JourneyStarter(env.client, "options", store)
        context = ActivityContext(store=store, bundle=bundle, starter=starter, mailer=CaptureMailer())
        async with build_worker(env.client, "options", registry, context):
            intent = StartJourney(playbook="flaky_call", account="acme", entry_at=at, reason="event signed")
            assert await starter.start(bundle, intent, 0.0)
            handle = env.client.get_workflow_handle("journey/flaky_call/acme", result_type=JourneyOutcome)
            outcome = await handle.result()
            history = await handle.fetch_history()
    actions = store.actions(account="acme")

    assert calls == ["Hello Acme"] * 3  # three attempts, as declared, then the step failed for good
    assert outcome.status == "completed"  # the journey goes on after a failed step
    [failed] = [a for a in actions if a.kind == "failed"]
    assert failed.data == {"step": "day 0/0", "error": "ServiceDown: 503 from the flaky service",
                           "activity": "flaky.call", "attempts": 3}
    assert failure_text(failed.data) == "flaky.call failed after 3 attempts: ServiceDown: 503 from the flaky service"
    scheduled = {
        attributes.activity_type.name: attributes
        for event in history.events if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        for attributes in [event.activity_task_scheduled_event_attributes]
    }
    assert scheduled["flaky.call"].start_to_close_timeout.ToTimedelta() == timedelta(seconds=7)
    assert scheduled["flaky.call"].retry_policy.maximum_attempts == 3
    builtin = registry.specs["journey.failed"]
    assert scheduled["journey.failed"].start_to_close_timeout.ToTimedelta() == builtin.timeout
    assert scheduled["journey.failed"].retry_policy.maximum_attempts == builtin.max_attempts


@pytest.mark.parametrize("options", [{"timeout": timedelta(0)}, {"max_attempts": 0}])
def test_an_activity_declares_a_positive_timeout_and_at_least_one_attempt(options: dict[str, object]) -> None:
    async def nothing(_params: FlakyParams, _call: PluginCall) -> None:
        return None

    with pytest.raises(ValueError, match=r"flaky\.call"):
        ActivitySpec(name="flaky.call", fn=nothing, params=FlakyParams, description="", **options)  # type: ignore[arg-type]
