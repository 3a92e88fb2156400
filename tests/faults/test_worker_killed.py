"""`playbook worker` killed with SIGKILL, then started again: every step runs once.

The drill's journey sends `first`, waits for `proceed`, sends `second`, waits for `finish`,
sends `third`. Each email carries a Message-ID derived from its step's idempotency key, so the
relay's copies are counted per Message-ID: one distinct Message-ID per step, always; a second
copy of one (same Message-ID) only when the kill fell between the relay's acceptance and the
store's delivered mark.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.faults.conftest import Stack, Workers
from tests.faults.stack import (
    Relay,
    Reply,
    activity_reported,
    address,
    event,
    eventually,
    expire_attempt,
    journey_id,
    pending_activity,
    send,
    signup,
    waiting,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

STEPS = ["first", "second", "third"]


def copies(relay: Relay, account: str) -> Counter[str]:
    """Message-ID -> how many copies the relay holds, for the account's address."""
    return Counter(message.message_id for message in relay.kept(address(account)))


def subjects(relay: Relay, account: str) -> dict[str, set[str]]:
    """The step (template) of each Message-ID, from the subject the drill's templates write."""
    found: dict[str, set[str]] = {}
    for message in relay.kept(address(account)):
        step = next(name for name in STEPS if f"the {name} email" in message.subject)
        found.setdefault(step, set()).add(message.message_id)
    return found


async def run_to_the_end(stack: Stack, relay: Relay, account: str) -> None:
    """From the wait after `first`: `proceed`, `second`, `finish`, `third`, completed."""
    wid = journey_id(account)
    await send(stack.api_port, [event(account, "proceed")])
    await eventually(lambda: _has(relay, account, "second"), "the second email", timeout=60)
    await eventually(lambda: waiting(stack.client, wid), "the journey to wait for `finish`", timeout=60)
    await send(stack.api_port, [event(account, "finish")])
    await eventually(lambda: _has(relay, account, "third"), "the third email", timeout=60)

    async def completed() -> bool:
        return any(row.status == "completed" for row in stack.store.journeys(account=account))

    await eventually(completed, "the journey to complete", timeout=60)


async def _has(relay: Relay, account: str, step: str) -> bool:
    return step in subjects(relay, account)


def assert_once_per_step(stack: Stack, relay: Relay, account: str) -> None:
    by_step = subjects(relay, account)
    assert {step: len(ids) for step, ids in by_step.items()} == {step: 1 for step in STEPS}, by_step
    rows = stack.store.messages(account)
    assert sorted(row.template for row in rows) == sorted(STEPS)
    assert all(row.status == "sent" and stack.store.delivered(row.key) for row in rows), rows
    emails = [action for action in stack.store.actions(account=account) if action.kind == "email"]
    assert sorted(action.data["template"] for action in emails) == sorted(STEPS)
    assert not [action for action in stack.store.actions(account=account) if action.kind == "failed"]


async def test_a_worker_killed_between_two_steps_runs_each_step_once_after_restart(
        stack: Stack, relay: Relay, workers: Workers) -> None:
    account = "between-steps"
    wid = journey_id(account)
    worker = await workers.start()
    await send(stack.api_port, signup(account))
    await eventually(lambda: _has(relay, account, "first"), "the first email", timeout=60)
    await eventually(lambda: waiting(stack.client, wid), "the journey to wait for `proceed`", timeout=60)

    worker.kill()
    # The event arrives while no worker runs: Temporal keeps the signal for the next one.
    await send(stack.api_port, [event(account, "proceed")])
    await workers.start()

    await eventually(lambda: _has(relay, account, "second"), "the second email after the restart", timeout=60)
    await eventually(lambda: waiting(stack.client, wid), "the journey to wait for `finish`", timeout=60)
    await send(stack.api_port, [event(account, "finish")])
    await eventually(lambda: _has(relay, account, "third"), "the third email", timeout=60)

    async def completed() -> bool:
        return any(row.status == "completed" for row in stack.store.journeys(account=account))

    await eventually(completed, "the journey to complete", timeout=60)
    assert_once_per_step(stack, relay, account)
    assert sum(copies(relay, account).values()) == len(STEPS)  # nothing to deduplicate: one copy each


async def test_a_worker_killed_before_the_relay_answered_data_resends_the_same_message_id(
        stack: Stack, relay: Relay, workers: Workers) -> None:
    """The relay keeps the message, then the worker dies before it hears 250: the kill lands
    between the relay's acceptance and the delivered mark. The retry delivers a second copy,
    byte for byte the same Message-ID, which the relay or the mailbox drops as a duplicate."""
    account = "held-data"
    wid = journey_id(account)
    relay.reply = Reply.HOLD
    worker = await workers.start()
    await send(stack.api_port, signup(account))
    await eventually(lambda: _true(relay.held.is_set()), "the relay to hold the first email", timeout=60)

    worker.kill()
    relay.reply = Reply.ACCEPT
    rows = stack.store.messages(account)
    assert len(rows) == 1 and not stack.store.delivered(rows[0].key), "recorded, not marked delivered"
    await expire_attempt(stack.client, wid)
    await workers.start()

    await eventually(lambda: _true(len(relay.kept(address(account))) == 2), "the retried first email", timeout=60)
    await eventually(lambda: waiting(stack.client, wid), "the journey to wait for `proceed`", timeout=60)
    first = relay.kept(address(account))
    assert first[0].message_id == first[1].message_id != ""
    assert first[0].subject == first[1].subject
    await run_to_the_end(stack, relay, account)

    assert_once_per_step(stack, relay, account)
    assert sorted(copies(relay, account).values()) == [1, 1, 2]  # the second copy of `first` only


async def test_a_worker_killed_right_after_the_delivered_mark_sends_no_second_copy(
        stack: Stack, relay: Relay, workers: Workers, record_property: pytest.RecordProperty) -> None:
    """Kill as soon as the store marks the first email delivered. Either the activity reported
    its completion in that instant (nothing left to retry) or the retry finds the mark: one copy
    in both cases. Which one happened is recorded as the test's `case` property."""
    account = "after-mark"
    wid = journey_id(account)
    worker = await workers.start()
    await send(stack.api_port, signup(account))

    async def marked() -> bool:
        rows = stack.store.messages(account)
        return bool(rows) and stack.store.delivered(rows[0].key)

    await eventually(marked, "the delivered mark of the first email", timeout=60, every=0.01)
    worker.kill()
    reported = await activity_reported(stack.client, wid, "message.send")
    activity = await pending_activity(stack.client, wid)
    unreported = activity is not None and activity.activity_type.name == "message.send"
    case = ("killed before the activity reported: the retry found the delivered mark" if unreported
            else "the activity reported before the kill" if reported else "unexpected")
    record_property("case", case)
    print(f"after-mark case: {case}")
    if unreported:
        await expire_attempt(stack.client, wid)
    await workers.start()
    await eventually(lambda: waiting(stack.client, wid), "the journey to wait for `proceed`", timeout=60)
    if unreported:
        assert await activity_reported(stack.client, wid, "message.send") >= 1
    await run_to_the_end(stack, relay, account)

    assert_once_per_step(stack, relay, account)
    assert sum(copies(relay, account).values()) == len(STEPS)


async def _true(value: bool) -> bool:
    return value
