"""A send at the moment its journey read the account renders from that read, on the worker that
made it; after the journey changes the account, or with a token the worker does not hold, the
send reads the account again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from activities.context import ActivityContext, CaptureMailer
from activities.registry import load_registry
from activities.sending import send_message
from activities.snapshot_cache import SnapshotCache
from dsl import ir
from dsl.project import compile_folder
from engine.records import Snapshot, StartJourney
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.store.snapshots import build_snapshot
from engine.workflows.payloads import EmailParams, JourneyOutcome
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

PLAYBOOK = """\
playbook welcome "Two messages, a stage, a third message":
    trigger: event signed

    day 0:
        send in_app hello
        send in_app again
        set stage = "onboarded"
        send in_app staged
"""


def _template(name: str) -> str:
    return ("{% block subject %}" + name + " {{ account.name }}{% endblock %}\n"
            "{% block text %}Stage: {{ account.stage | default('none') }}{% endblock %}\n")


def _bundle(root: Path) -> ir.Bundle:
    (root / "templates").mkdir(parents=True)
    (root / "model.play").write_text(MODEL)
    (root / "welcome.play").write_text(PLAYBOOK)
    for name in ("hello", "again", "staged"):
        (root / "templates" / f"{name}.in_app.jinja").write_text(_template(name))
    compilation = compile_folder(root)
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return compilation.bundle


async def test_sends_at_the_journeys_moment_reuse_its_read_until_the_journey_changes_the_account(
        tmp_path: Path, store: Store) -> None:
    bundle = _bundle(tmp_path / "playbooks")
    store.add_change("acme", AT - timedelta(days=1), event=None, data={}, event_id=None, traits={"name": "Acme"})
    env = await time_skipping()
    async with env:
        starter = JourneyStarter(env.client, "reuse", store)
        context = ActivityContext(store=store, bundle=bundle, starter=starter, mailer=CaptureMailer())
        async with build_worker(env.client, "reuse", load_registry(only={"builtin"}), context):
            offset = (await env.get_current_time() - AT).total_seconds()  # the journey's clock reads AT now
            assert await starter.start(bundle, StartJourney(playbook="welcome", account="acme", entry_at=AT,
                                                            reason="event signed"), offset)
            handle = env.client.get_workflow_handle("journey/welcome/acme", result_type=JourneyOutcome)
            assert (await handle.result()).status == "completed"
    sent = [(m.subject, m.text) for m in store.messages("acme")]

    # hello and again rendered from the entry's read; staged from a fresh one, after the `set`
    assert (context.snapshots.hits, context.snapshots.misses) == (2, 0)
    assert sent == [("hello Acme", "Stage: none\n"), ("again Acme", "Stage: none\n"),
                    ("staged Acme", "Stage: onboarded\n")]


def _params(bundle: ir.Bundle, key: str, token: str | None) -> EmailParams:
    return EmailParams(account="acme", playbook="welcome", workflow_id="journey/welcome/acme", key=key, at=AT,
                       channel="in_app", template=bundle.templates["hello"], snapshot=token)


async def test_a_token_of_another_worker_or_moment_reads_the_account_again(tmp_path: Path, store: Store) -> None:
    bundle = _bundle(tmp_path / "playbooks")
    store.add_change("acme", AT, event=None, data={}, event_id=None, traits={"name": "Acme"})
    context = ActivityContext(store=store, bundle=bundle, starter=JourneyStarter(None, "q", store),  # type: ignore[arg-type]
                              mailer=CaptureMailer())
    elsewhere = SnapshotCache().keep(Snapshot(account="acme", at=AT, fields={"name": "Elsewhere"}))
    earlier = context.snapshots.keep(Snapshot(account="acme", at=AT - timedelta(hours=1), fields={"name": "Then"}))
    here = context.snapshots.keep(build_snapshot(store, bundle, "acme", AT))
    assert await send_message(_params(bundle, "k1", elsewhere.token), context) == "sent"
    assert await send_message(_params(bundle, "k2", earlier.token), context) == "sent"
    assert await send_message(_params(bundle, "k3", here.token), context) == "sent"
    subjects = [m.subject for m in store.messages("acme")]
    assert subjects == ["hello Acme"] * 3
    assert (context.snapshots.hits, context.snapshots.misses) == (1, 2)


def test_the_cache_forgets_the_oldest_snapshot_when_full() -> None:
    cache = SnapshotCache(capacity=2)
    first, second, third = (cache.keep(Snapshot(account=f"a{n}", at=AT)) for n in range(3))
    assert len(cache) == 2
    assert cache.get(first.token, "a0", AT) is None
    assert cache.get(third.token, "a2", AT) == third
    assert cache.get(None, "a1", AT) is None
    assert second.token != third.token
