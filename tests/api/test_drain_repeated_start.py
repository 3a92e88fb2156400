"""A journey's start carried out, then the process killed before the intent's drained mark: the next
drain finds the journey started by that very intent (its origin in the journey's input) and does
not start a second one, even when the first has ended and the playbook allows re-entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from dsl import ir
from engine.records import StartJourney
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.store.routing_queue import Drainer
from engine.store.schema import routing_intents
from engine.workflows.payloads import journey_id
from server.api.routing_drain import Drain
from server.web.limits import Limits
from tests.api.conftest import engine

PLAYBOOK = "smb_onboarding"  # re-entry after the journey ended (the default)


def _drain(store: Store, bundle: ir.Bundle, starter: JourneyStarter, started_at: datetime) -> Drain:
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle, starter)
    return Drain(store, core, Limits(routing_timeout_seconds=10), in_flight=2,
                 drainer=Drainer("this-process", started_at))


async def test_a_start_repeated_after_a_crash_does_not_start_a_second_journey(
        store: Store, bundle: ir.Bundle) -> None:
    assert bundle.playbooks[PLAYBOOK].reentry.mode == "after_end"
    now = datetime.now(UTC)
    start = StartJourney(playbook=PLAYBOOK, account="techcorp", entry_at=now, reason="event signed")
    async with engine(store, bundle) as running:
        before = _drain(store, bundle, running.starter, now - timedelta(hours=1))
        store.add_intents([(41, 0, "techcorp", start.model_dump(mode="json"))], now, owner="this-process")
        assert await before.round() == 1  # committed by this process after it started: started at once
        handle = running.env.client.get_workflow_handle(journey_id(PLAYBOOK, "techcorp"))
        first = await handle.describe()
        await handle.terminate(reason="the first journey ended")
        with store._db.engine.begin() as conn:  # killed between Temporal's answer and the mark
            conn.execute(update(routing_intents).values(drained_at=None))
        after = _drain(store, bundle, running.starter, datetime.now(UTC) + timedelta(seconds=1))
        assert await after.round() == 1  # carried out again: found started by it, marked drained
        latest = await handle.describe()
        by_it = await running.starter.started_by(start.model_copy(update={"origin": "41/0"}))
        by_another = await running.starter.started_by(start.model_copy(update={"origin": "42/0"}))
    assert [workflow for workflow, _ in running.starter.started] == [journey_id(PLAYBOOK, "techcorp")]
    assert latest.run_id == first.run_id
    assert by_it and not by_another
    assert store.undrained(None, 10) == []
