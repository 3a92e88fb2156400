"""`playbook worker` killed with SIGKILL, then started again: every step runs once.

The drill's journey sends `first`, waits for `proceed`, sends `second`, waits for `finish`,
sends `third`. Each email carries a Message-ID derived from its step's idempotency key, so the
relay's copies are counted per Message-ID: one distinct Message-ID per step, always; a second
copy of one (same Message-ID) only when the kill fell between the relay's acceptance and the
store's delivered mark.

One kill serves three accounts at once (a worker takes seconds to start on a loaded machine):

- `between`: its first email delivered, its journey waiting for `proceed`;
- `held`: the relay kept its first email and holds the reply to `DATA`, so the worker dies
  after the relay accepted but before it heard so (and before the delivered mark);
- `marked`: killed the instant the store marks its first email delivered; whether the activity
  reported its completion in that instant is recorded (`case`).

The event `proceed` for all three is sent while no worker runs; then a new worker starts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio

from tests.faults.conftest import Stack, Workers
from tests.faults.stack import (
    Received,
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

STEPS = ("first", "second", "third")
BETWEEN, HELD, MARKED = "between", "held", "marked"
ACCOUNTS = (BETWEEN, HELD, MARKED)


def step_of(message: Received) -> str:
    return next(name for name in STEPS if f"the {name} email" in message.subject)


def by_step(relay: Relay, account: str) -> dict[str, Counter[str]]:
    """step -> Message-ID -> copies the relay holds, for the account's address."""
    found: dict[str, Counter[str]] = {}
    for message in relay.kept(address(account)):
        found.setdefault(step_of(message), Counter())[message.message_id] += 1
    return found


@dataclass(frozen=True)
class Drill:
    stack: Stack
    relay: Relay
    held_before_kill: tuple[bool, bool]  # (recorded in the store, marked delivered) when killed
    marked_case: str


async def _has(relay: Relay, account: str, step: str) -> bool:
    return step in by_step(relay, account)


async def _all_wait(stack: Stack, accounts: tuple[str, ...]) -> bool:
    return all([await waiting(stack.client, journey_id(account)) for account in accounts])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def drill(stack: Stack) -> AsyncIterator[Drill]:
    relay = Relay(rules={address(HELD): Reply.HOLD})
    relay.start()
    workers = Workers(stack, relay, [])
    try:
        worker = await workers.start()
        await send(stack.api_port, signup(BETWEEN) + signup(HELD))
        await eventually(lambda: _has(relay, BETWEEN, "first"), "the first email of `between`", timeout=90)
        await eventually(lambda: _all_wait(stack, (BETWEEN,)), "`between` to wait for `proceed`", timeout=60)
        await eventually(lambda: _true(relay.held.is_set()), "the relay to hold the first email of `held`",
                         timeout=60)

        await send(stack.api_port, signup(MARKED))

        async def marked() -> bool:
            rows = stack.store.messages(MARKED)
            return bool(rows) and stack.store.delivered(rows[0].key)

        await eventually(marked, "the delivered mark of `marked`'s first email", timeout=60, every=0.005)
        worker.kill()

        held_rows = stack.store.messages(HELD)
        held_state = (len(held_rows) == 1, bool(held_rows) and stack.store.delivered(held_rows[0].key))
        pending = await pending_activity(stack.client, journey_id(MARKED))
        unreported = pending is not None and pending.activity_type.name == "message.send"
        if unreported:
            case = "killed before the activity reported: its retry found the delivered mark"
        elif await activity_reported(stack.client, journey_id(MARKED), "message.send"):
            case = "the activity reported its completion before the kill"
        else:
            case = f"unexpected: pending {pending}"
        print(f"\n`marked`: {case}")

        # What the server does when the killed attempts' 2-minute timeout runs out, done now.
        relay.rules.clear()
        await expire_attempt(stack.client, journey_id(HELD))
        if unreported:
            await expire_attempt(stack.client, journey_id(MARKED))
        # `proceed` reaches the journeys while no worker runs: Temporal keeps the signals.
        await send(stack.api_port, [event(account, "proceed") for account in ACCOUNTS])
        await workers.start()

        for account in ACCOUNTS:
            await eventually(lambda account=account: _has(relay, account, "second"),  # type: ignore[misc]
                             f"the second email of `{account}`", timeout=90)
        await eventually(lambda: _all_wait(stack, ACCOUNTS), "every journey to wait for `finish`", timeout=60)
        await send(stack.api_port, [event(account, "finish") for account in ACCOUNTS])

        async def completed() -> bool:
            return all(any(row.status == "completed" for row in stack.store.journeys(account=account))
                       for account in ACCOUNTS)

        await eventually(completed, "every journey to complete", timeout=90)
        yield Drill(stack, relay, held_state, case)
    finally:
        for started in workers.started:
            started.kill()  # faster than a graceful stop, and nothing is under way by now
        relay.close()


def assert_once_per_step(drill: Drill, account: str) -> None:
    """One distinct Message-ID per step at the relay; one message per step in the store,
    delivered; one `email` line per step in the action log; no `failed`."""
    store = drill.stack.store
    found = by_step(drill.relay, account)
    assert sorted(found) == sorted(STEPS), found
    assert all(len(ids) == 1 for ids in found.values()), found
    rows = store.messages(account)
    assert sorted(row.template for row in rows) == sorted(STEPS)
    assert all(row.status == "sent" and store.delivered(row.key) for row in rows), rows
    actions = store.actions(account=account)
    assert sorted(action.data["template"] for action in actions if action.kind == "email") == sorted(STEPS)
    assert [action for action in actions if action.kind == "failed"] == []


async def test_a_worker_killed_between_two_steps_runs_each_step_once_after_restart(drill: Drill) -> None:
    assert_once_per_step(drill, BETWEEN)
    assert len(drill.relay.kept(address(BETWEEN))) == len(STEPS)  # one copy of each


async def test_a_worker_killed_after_the_relay_accepted_but_before_it_answered_resends_the_same_message_id(
        drill: Drill) -> None:
    """The kill lands between the relay's acceptance and the delivered mark: the retry hands
    the relay a second copy of `first` under the same Message-ID (which a relay or mailbox can
    drop), never a second distinct message."""
    assert drill.held_before_kill == (True, False)  # recorded once, not marked delivered
    assert_once_per_step(drill, HELD)
    copies = by_step(drill.relay, HELD)
    assert sorted(copies["first"].values()) == [2]
    assert [sum(copies[step].values()) for step in ("second", "third")] == [1, 1]
    first = [message for message in drill.relay.kept(address(HELD)) if step_of(message) == "first"]
    assert first[0].subject == first[1].subject and first[0].to == first[1].to


async def test_a_worker_killed_right_after_the_delivered_mark_sends_no_second_copy(
        drill: Drill, record_property: Callable[[str, object], None]) -> None:
    record_property("case", drill.marked_case)
    assert not drill.marked_case.startswith("unexpected"), drill.marked_case
    assert_once_per_step(drill, MARKED)
    assert len(drill.relay.kept(address(MARKED))) == len(STEPS)


async def _true(value: bool) -> bool:
    return value
