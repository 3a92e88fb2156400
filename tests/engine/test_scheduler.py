"""The scheduler of time triggers resumes from where the store says it stopped.

A scheduler started on a store it ran on before fires what came due while none ran (a renewal
trigger two days past: its journey enters at the trigger's moment and skips the step past by more
than the trigger horizon); on a store it never ran on, it starts from now. Real workflows and
activities on the time-skipping server; the scheduler's first round needs no skipped time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.context import ActivityContext, CaptureMailer
from activities.registry import load_registry
from activities.time_triggers import SCHEDULER_CURSOR
from dsl import ir
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.workflows.scheduler import SCHEDULER_ID, SchedulerInput
from tests.live_api import time_skipping
from workers.runtime import build_worker


def _renewal_two_days_ago(store: Store, now: datetime) -> datetime:
    """An account whose `90 days before renewal_date` fell two days ago; that trigger's moment."""
    passed = (now - timedelta(days=2)).date()
    store.add_change("initech", now - timedelta(days=30), event=None, data={}, event_id=None, traits={
        "name": "Initech", "segment": "mid_market", "arr": 20000, "timezone": "UTC",
        "renewal_date": (passed + timedelta(days=90)).isoformat(),
        "primary_contact": {"email": "bill@initech.example", "name": "Bill"},
        "csm": {"email": "sam@vendor.example", "manager": {"email": "lee@vendor.example"}}})
    return datetime(passed.year, passed.month, passed.day, 9, tzinfo=UTC)


async def _first_round_done(client: Client) -> None:
    """Until the scheduler has asked when the next trigger is due (its first round's look done)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        history = await client.get_workflow_handle(SCHEDULER_ID).fetch_history()
        if any(event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED for event in history.events):
            scheduled = [event.activity_task_scheduled_event_attributes.activity_type.name for event in history.events
                         if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
            if "triggers.next_due" in scheduled and len(scheduled) >= 2:
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the scheduler did not finish its first round")


async def _run_scheduler(store: Store, bundle: ir.Bundle, stored_cursor: timedelta | None) -> datetime:
    env = await time_skipping()
    async with env:
        now = await env.get_current_time()
        instant = _renewal_two_days_ago(store, now)
        if stored_cursor is not None:
            store.set_cursor(SCHEDULER_CURSOR, now - stored_cursor)
        starter = JourneyStarter(env.client, "scheduler-test", store)
        context = ActivityContext(store=store, bundle=bundle, starter=starter, mailer=CaptureMailer())
        async with build_worker(env.client, "scheduler-test", load_registry(only={"builtin"}), context):
            await env.client.start_workflow("scheduler", SchedulerInput(), id=SCHEDULER_ID,
                                            task_queue="scheduler-test")
            await _first_round_done(env.client)
            if stored_cursor is not None:  # the journey it started records its entry
                deadline = time.monotonic() + 60
                while not store.journeys(account="initech") and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
    return instant


async def test_a_scheduler_resumes_from_the_stored_cursor_and_fires_what_came_due(
        bundle: ir.Bundle, store: Store) -> None:
    instant = await _run_scheduler(store, bundle, stored_cursor=timedelta(days=5))
    [journey] = store.journeys(account="initech")
    assert (journey.playbook, journey.entered_at) == ("renewal", instant)
    cursor = store.cursor(SCHEDULER_CURSOR)
    assert cursor is not None and cursor >= instant


async def test_a_scheduler_on_a_store_it_never_ran_on_starts_from_now(bundle: ir.Bundle, store: Store) -> None:
    await _run_scheduler(store, bundle, stored_cursor=None)
    assert store.journeys(account="initech") == []


def test_a_cursor_only_moves_forward(store: Store) -> None:
    later, earlier = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    assert store.cursor("scheduler") is None
    store.set_cursor("scheduler", later)
    store.set_cursor("scheduler", earlier)
    assert store.cursor("scheduler") == later
