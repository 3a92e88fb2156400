"""A plugin release renames a parameter: running journeys keep their playbook version, and so the
old name; an alias keeps their pending step working, and the worker's start check says which
journeys a release without one would break."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from activities.context import ActivityContext, CaptureMailer, PluginCall
from activities.param_versions import call_problems
from activities.plugin_catalog import plugin_catalog
from activities.registry import ActivitySpec, Registry, load_registry
from dsl import ir
from dsl.project import compile_folder
from engine.records import StartJourney
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.workflows.payloads import JourneyOutcome
from tests.live_api import time_skipping
from tests.plugins import ticketing
from tests.plugins.conftest import write_folder
from workers.running_versions import running_version_problems
from workers.runtime import build_worker

MODEL = "account fields:\n    name: text\n\nevents:\n    signed\n"
PLAYBOOK = """\
playbook tickets "Open a ticket a day later":
    trigger: event signed

    day 1:
        do tickets.create {param}="Onboard {{{{ account.name }}}}"
"""


class RenamedParams(BaseModel):
    """The next release: `title` is now `subject`."""

    subject: str


def renamed(calls: list[str], aliases: dict[str, str]) -> Registry:
    async def create(params: RenamedParams, call: PluginCall) -> dict[str, str]:
        calls.append(params.subject)
        return {"id": "T-1"}

    registry = load_registry(only={"builtin"})
    registry.add(ActivitySpec(name="tickets.create", fn=create, params=RenamedParams, description="Open a ticket.",
                              aliases=aliases))
    return registry


def bundle(root: Path, registry: Registry, param: str) -> ir.Bundle:
    files = {"model.play": MODEL, "tickets.play": PLAYBOOK.format(param=param)}
    compilation = compile_folder(write_folder(root, files), plugins=plugin_catalog(registry))
    assert compilation.bundle is not None, compilation.render()
    return compilation.bundle


def test_an_alias_makes_the_old_name_fit_and_a_missing_one_is_listed(tmp_path: Path) -> None:
    old = bundle(tmp_path / "old", ticketing.registry(), "title").playbooks["tickets"]
    assert [str(problem) for problem in call_problems(renamed([], {}), old)] == [
        "day 1/0: do tickets.create: no parameter title any more (give the new name as an alias)",
        "day 1/0: do tickets.create: the required parameter subject is not given",
    ]
    assert call_problems(renamed([], {"title": "subject"}), old) == []


def test_an_alias_must_name_a_parameter_of_the_model() -> None:
    with pytest.raises(ValueError, match="alias 'title'"):
        renamed([], {"title": "topic"})


async def test_a_running_journey_survives_a_rename_with_an_alias_and_the_start_check_names_it(
        tmp_path: Path, store: Store) -> None:
    old = bundle(tmp_path / "old", ticketing.registry(), "title")
    new = bundle(tmp_path / "new", renamed([], {"title": "subject"}), "subject")
    calls: list[str] = []
    release = renamed(calls, {"title": "subject"})
    env = await time_skipping()
    async with env:
        at = (await env.get_current_time()).replace(microsecond=0)
        store.add_change("acme", at, event=None, data={}, event_id=None, traits={"name": "Acme"})
        starter = JourneyStarter(env.client, "versions", store)
        context = ActivityContext(store=store, bundle=new, starter=starter, mailer=CaptureMailer())
        async with build_worker(env.client, "versions", release, context):
            intent = StartJourney(playbook="tickets", account="acme", entry_at=at, reason="event signed")
            assert await starter.start(old, intent, 0.0)  # entered with the old version
            for _ in range(400):  # until the journey's entry is recorded
                if store.running_versions():
                    break
                await asyncio.sleep(0.05)
            without_alias = await running_version_problems(env.client, store, renamed([], {}), new)
            with_alias = await running_version_problems(env.client, store, release, new)
            await env.sleep(timedelta(days=1, hours=1))  # the journey's day 1
            handle = env.client.get_workflow_handle("journey/tickets/acme", result_type=JourneyOutcome)
            outcome = await handle.result()
    version = old.versions["tickets"]
    assert without_alias == [
        f"playbook tickets version {version} (1 running: journey/tickets/acme): "
        "day 1/0: do tickets.create: no parameter title any more (give the new name as an alias); "
        "day 1/0: do tickets.create: the required parameter subject is not given"]
    assert with_alias == []
    assert outcome.status == "completed"
    assert calls == ["Onboard Acme"]
    [call] = [action for action in store.actions(account="acme") if action.kind == "call"]
    assert call.data["params"] == {"subject": "Onboard Acme"}


def test_an_upgrade_hook_turns_older_values_into_the_current_ones() -> None:
    def upgrade(values: dict[str, Any]) -> dict[str, Any]:
        if "title" in values:
            values = {**values, "subject": values["title"].upper()}
            del values["title"]
        return values

    async def nothing(_params: RenamedParams, _call: PluginCall) -> None:
        return None

    spec = ActivitySpec(name="tickets.create", fn=nothing, params=RenamedParams, description="", upgrade=upgrade,
                        timeout=timedelta(seconds=5))
    assert spec.upgraded({"title": "hi"}) == {"subject": "HI"}
    assert spec.upgraded({"subject": "hi"}) == {"subject": "hi"}
