"""What a journey does travels together where it can, and reads the same as one action at a time:
a run of in-app messages of a step goes in one activity (`message.send_all`), and the journey's
end travels with its last effect. A worker that does neither (as workers did before) records the
very same action log, in the same order, failures included."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType

from activities.context import ActivityContext, CaptureMailer
from activities.journey_ops import enter_journey
from activities.message_runs import send_messages
from activities.registry import Registry, load_registry
from activities.send_gate import SendHeld
from dsl import ir
from dsl.project import compile_folder
from engine.records import StartJourney
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.store.controls import SENDS
from engine.workflows.effects import JOURNEY_ENTER
from engine.workflows.payloads import EmailParams, EnterParams, EnterResult, JourneyOutcome, MessagesParams
from tests.conftest import sqlite_url
from tests.live_api import time_skipping
from workers.runtime import build_worker

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)

MODEL = """\
account fields:
    name: text
    stage: text

events:
    signed
"""

PLAYBOOKS = {
    "a run of messages, the last one the journey's last action": """\
    day 0:
        send in_app hello
        send in_app again
        send in_app third
""",
    "a message of the run fails for good": """\
    day 0:
        send in_app hello
        send in_app broken
        send in_app third
""",
    "a run, then a set as the last action": """\
    day 0:
        send in_app hello
        send in_app again
        set stage = "onboarded"
""",
    "the last statement is no effect": """\
    day 0:
        send in_app hello
        send in_app again
        if stage == "trial":
            send in_app third
""",
}


def _bundle(root: Path, body: str) -> ir.Bundle:
    (root / "templates").mkdir(parents=True)
    (root / "model.play").write_text(MODEL)
    (root / "welcome.play").write_text('playbook welcome "Welcome":\n    trigger: event signed\n\n' + body)
    for name in ("hello", "again", "third"):
        (root / "templates" / f"{name}.in_app.jinja").write_text(
            "{% block subject %}" + name + " {{ account.name }}{% endblock %}\n{% block text %}Hi{% endblock %}\n")
    (root / "templates" / "broken.in_app.jinja").write_text(  # a field without a value: fails for good
        "{% block subject %}{{ account.stage }}{% endblock %}\n{% block text %}Hi{% endblock %}\n")
    compilation = compile_folder(root)
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return compilation.bundle


def _one_at_a_time() -> Registry:
    """The built-in activities, with a `journey.enter` that says the worker sends nothing together."""
    registry = load_registry(only={"builtin"})
    spec = registry.specs[JOURNEY_ENTER]

    async def enter(p: EnterParams, ctx: ActivityContext) -> EnterResult:
        entered = await enter_journey(p, ctx)
        return entered.model_copy(update={"end_with_last_effect": False, "in_app_runs": False})

    registry.specs[JOURNEY_ENTER] = dataclasses.replace(spec, fn=enter)
    return registry


async def _run(folder: Path, bundle: ir.Bundle, registry: Registry) -> tuple[list[tuple[str, str, str]], Counter[str]]:
    """The journey's actions (kind, key without the run id, data) and its history's commands."""
    folder.mkdir()
    store = Store.open(sqlite_url(folder / "store.db"))
    store.add_change("acme", AT - timedelta(days=1), event=None, data={}, event_id=None, traits={"name": "Acme"})
    try:
        async with await time_skipping() as env:
            starter = JourneyStarter(env.client, "together", store)
            context = ActivityContext(store=store, bundle=bundle, starter=starter, mailer=CaptureMailer())
            async with build_worker(env.client, "together", registry, context):
                offset = (await env.get_current_time() - AT).total_seconds()
                assert await starter.start(bundle, StartJourney(playbook="welcome", account="acme", entry_at=AT,
                                                                reason="event signed"), offset)
                handle = env.client.get_workflow_handle("journey/welcome/acme", result_type=JourneyOutcome)
                assert (await handle.result()).status == "completed"
                history = await handle.fetch_history()
        run_id = starter.started[-1][1]
        actions = [(a.kind, (a.key or "").replace(run_id, "RUN"), str(a.data)) for a in store.actions("acme")]
    finally:
        store.close()
    commands: Counter[str] = Counter()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            commands[event.activity_task_scheduled_event_attributes.activity_type.name] += 1
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            commands["local activity"] += 1
    return actions, commands


@pytest.mark.parametrize("case", list(PLAYBOOKS))
async def test_actions_sent_together_log_the_same_as_one_at_a_time(tmp_path: Path, case: str) -> None:
    bundle = _bundle(tmp_path / "playbooks", PLAYBOOKS[case])
    together, commands = await _run(tmp_path / "together", bundle, load_registry(only={"builtin"}))
    alone, alone_commands = await _run(tmp_path / "alone", bundle, _one_at_a_time())
    assert together == alone
    kinds = [kind for kind, _, _ in together]
    assert kinds[0] == "enrolled" and kinds[-1] == "completed"
    assert alone_commands["local activity"] == 2  # journey.enter, journey.end
    if case == "a run of messages, the last one the journey's last action":
        assert commands == {"message.send_all": 1, "local activity": 1}  # the end went with the run
        assert kinds == ["enrolled", "in_app", "in_app", "in_app", "completed"]
    elif case == "a message of the run fails for good":
        # the run stops at the broken message: it fails on its own, recorded; the third goes with the end
        assert commands == {"message.send_all": 1, "message.send": 2, "journey.failed": 1, "local activity": 1}
        assert kinds == ["enrolled", "in_app", "failed", "in_app", "completed"]
    elif case == "a run, then a set as the last action":
        assert commands == {"message.send_all": 1, "field.set": 1, "local activity": 1}
    else:
        assert commands == {"message.send_all": 1, "local activity": 2}  # `if` decided last: its own end
        assert any(kind == "decided" for kind in kinds)


def _message(bundle: ir.Bundle, number: int) -> EmailParams:
    return EmailParams(account="acme", playbook="welcome", workflow_id="journey/welcome/acme",
                       key=f"journey/welcome/acme/RUN/day 0/{number}", at=AT, channel="in_app",
                       template=bundle.templates[["hello", "again", "third"][number]])


async def test_the_send_stop_holds_a_run_whole_and_once_lifted_each_message_goes_once(
        tmp_path: Path, store: Store) -> None:
    bundle = _bundle(tmp_path / "playbooks", PLAYBOOKS["a run of messages, the last one the journey's last action"])
    store.add_change("acme", AT, event=None, data={}, event_id=None, traits={"name": "Acme"})
    context = ActivityContext(store=store, bundle=bundle, starter=JourneyStarter(None, "q", store),  # type: ignore[arg-type]
                              mailer=CaptureMailer())
    run = MessagesParams(messages=[_message(bundle, n) for n in range(3)])
    store.set_control(SENDS, "relay blocklisted", AT)
    with pytest.raises(SendHeld):
        await send_messages(run, context)
    assert [a.kind for a in store.actions("acme")] == ["held"] and not store.messages("acme")
    store.clear_control(SENDS)
    assert await send_messages(run, context) == ["sent"] * 3
    assert await send_messages(run, context) == ["sent"] * 3  # a retried run finds its messages under their keys
    assert [m.subject for m in store.messages("acme")] == ["hello Acme", "again Acme", "third Acme"]
