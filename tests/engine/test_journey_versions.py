"""A running journey keeps the version it entered with; a second start of the same journey is refused."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from activities.context import ActivityContext, CaptureMailer
from activities.registry import load_registry
from dsl import ir
from dsl.project import compile_folder
from engine.records import StartJourney
from engine.routing.starter import JourneyStarter
from engine.store import Store
from simulation.simulate import simulate
from tests.live_api import time_skipping
from workers.runtime import build_worker

MODEL = """\
account fields:
    name: text
    primary_contact: contact

events:
    signed
"""

PLAYBOOK = """\
playbook welcome_series "Welcome series":
    trigger: event signed

    day 0:
        send email hello
    day 10:
        send email {later}
"""


def _template(name: str) -> str:
    return (f"{{% block subject %}}{name} for {{{{ contact.name }}}}{{% endblock %}}\n"
            f"{{% block text %}}{name}{{% endblock %}}\n{{% block html %}}<p>{name}</p>{{% endblock %}}\n")


def _folder(root: Path, later: str) -> ir.Bundle:
    (root / "templates").mkdir(parents=True)
    (root / "model.play").write_text(MODEL)
    (root / "series.play").write_text(PLAYBOOK.format(later=later))
    for name in ("hello", "tips_v1", "tips_v2"):
        (root / "templates" / f"{name}.email.jinja").write_text(_template(name))
    compilation = compile_folder(root)
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return compilation.bundle


def _signup(account: str, at: str) -> list[str]:
    traits = {"name": account.title(), "primary_contact": {"email": f"{account}@example.com", "name": account}}
    return [json.dumps({"id": f"{account}-t", "account": account, "at": at, "traits": traits}),
            json.dumps({"id": f"{account}-s", "account": account, "at": at, "event": "signed"})]


async def test_journey_started_on_v1_finishes_on_v1_after_v2_is_deployed(tmp_path: Path) -> None:
    v1 = _folder(tmp_path / "v1", "tips_v1")
    v2 = _folder(tmp_path / "v2", "tips_v2")
    assert v1.versions["welcome_series"] != v2.versions["welcome_series"]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(_signup("early", "2026-01-05T09:00:00Z") + _signup("late", "2026-01-08T09:00:00Z")))
    deployed = datetime(2026, 1, 7, tzinfo=UTC)
    result = await simulate(v1, events, days=20, deploys=[(deployed, v2)])
    emails = sorted((a.account, a.data["template"], a.at.day) for a in result.actions if a.kind == "email")
    assert emails == [("early", "hello", 5), ("early", "tips_v1", 15), ("late", "hello", 8), ("late", "tips_v2", 18)]
    versions = {a.account: a.data["version"] for a in result.actions if a.kind == "enrolled"}
    assert versions == {"early": v1.versions["welcome_series"], "late": v2.versions["welcome_series"]}


async def test_two_triggers_at_the_same_moment_start_one_journey(tmp_path: Path, store: Store) -> None:
    bundle = _folder(tmp_path / "pb", "tips_v1")
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    store.add_change("acme", at, event=None, data={}, event_id=None,
                     traits={"name": "Acme", "primary_contact": {"email": "a@acme.example", "name": "A"}})
    env = await time_skipping()
    async with env:
        # Two API processes racing: two starters, each with its own view, the same journey at once.
        first, second = (JourneyStarter(env.client, "versions", store) for _ in range(2))
        context = ActivityContext(store=store, bundle=bundle, starter=first, mailer=CaptureMailer())
        async with build_worker(env.client, "versions", load_registry(), context):
            intent = StartJourney(playbook="welcome_series", account="acme", entry_at=at, reason="event signed")
            started = await asyncio.gather(first.start(bundle, intent, 0.0), second.start(bundle, intent, 0.0))
            assert sorted(started) == [False, True]
            await env.client.get_workflow_handle("journey/welcome_series/acme").result()
    kinds = [a.kind for a in store.actions(account="acme")]
    assert kinds.count("enrolled") == 1
    assert any(a == "decided" for a in kinds)
