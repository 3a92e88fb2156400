"""The SMTP relay failing: temporarily (connections refused, then `421`) and for good (`550`).

A temporary failure makes the email activity back off (the journey's retry policy: 1 s, then
doubling, at most a minute apart) and the email go out once when the relay answers again. A
`550` is not retried: the message is recorded as `failed` with the relay's reason, the action
log says so, and the journey goes on with its next step.

One worker serves both tests (a worker takes seconds to start on a loaded machine).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import RetryState

from tests.faults.conftest import Stack, Workers
from tests.faults.stack import (
    ClosedActivity,
    Relay,
    Reply,
    address,
    closed_activities,
    event,
    eventually,
    journey_id,
    pending_activity,
    send,
    signup,
    waiting,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass(frozen=True)
class Mail:
    stack: Stack
    relay: Relay


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def mail(stack: Stack) -> AsyncIterator[Mail]:
    relay = Relay()
    relay.start()
    workers = Workers(stack, relay, [])
    try:
        await workers.start()
        yield Mail(stack, relay)
    finally:
        for started in workers.started:
            started.kill()  # faster than a graceful stop, and nothing is under way by now
        relay.close()


async def test_a_550_is_not_retried_and_is_recorded_as_failed_with_the_reason(mail: Mail) -> None:
    stack, relay, account = mail.stack, mail.relay, "refused-for-good"
    relay.rules[address(account)] = Reply.REJECT
    await send(stack.api_port, signup(account))

    async def failed() -> list[dict[str, object]]:
        return [action.data for action in stack.store.actions(account=account) if action.kind == "failed"]

    logged = await eventually(failed, "a `failed` line in the action log", timeout=90)
    await eventually(lambda: waiting(stack.client, journey_id(account)), "the journey to go on to its wait", timeout=60)
    # The server closed the send after its first attempt, for good: no retry can come.
    [send_activity] = await closed_activities(stack.client, journey_id(account), "message.send")
    assert send_activity == ClosedActivity(1, True, RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE)
    assert len(relay.kept(address(account))) == 0
    assert len([m for m in relay.rejected if address(account) in m.to]) == 1, "the relay saw one attempt"
    assert len(logged) == 1 and "550" in str(logged[0]["error"]), logged
    assert str(logged[0]["step"]).endswith("/0"), logged  # the step's path: day 0, its first statement
    [row] = stack.store.messages(account)
    assert row.status == "failed" and row.reason is not None and "550" in row.reason, row
    assert not stack.store.delivered(row.key)

    # The journey went on: the next step's email goes out once the relay takes mail again.
    relay.rules.pop(address(account))
    await send(stack.api_port, [event(account, "proceed")])

    async def second() -> bool:
        return any("the second email" in m.subject for m in relay.kept(address(account)))

    await eventually(second, "the second email", timeout=60)
    assert len(relay.kept(address(account))) == 1


async def test_a_relay_refusing_connections_then_answering_421_gets_the_email_once_after_backing_off(
        mail: Mail) -> None:
    stack, relay, account = mail.stack, mail.relay, "flaky-relay"
    wid = journey_id(account)
    relay.stop()  # the port is closed: every connection is refused
    await send(stack.api_port, signup(account))
    failures: list[str] = []

    async def failing(attempts: int) -> bool:
        activity = await pending_activity(stack.client, wid)
        if activity is None or activity.activity_type.name != "message.send" or activity.attempt < attempts:
            return False
        failures.append(activity.last_failure.message)
        return True

    await eventually(lambda: failing(3), "two refused attempts of the email", timeout=60, every=0.1)
    assert "could not be reached" in failures[-1], failures
    before = len(relay.connections)
    relay.script = [Reply.BUSY, Reply.BUSY]  # then: take the message
    relay.start()
    await eventually(lambda: failing(4), "an attempt answered 421", timeout=30, every=0.1)
    await eventually(lambda: _last_failure_has(stack, wid, "421", failures), "a 421 as the last failure",
                     timeout=30, every=0.1)

    async def delivered() -> bool:
        return len(relay.kept(address(account))) >= 1

    await eventually(delivered, "the email once the relay takes mail", timeout=60)
    await eventually(lambda: waiting(stack.client, wid), "the journey to go on to its wait", timeout=60)

    assert len(relay.kept(address(account))) == 1
    connections = relay.connections[before:]
    assert [c.reply for c in connections] == [Reply.BUSY, Reply.BUSY, Reply.ACCEPT], connections
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(connections)]
    assert gaps[1] > gaps[0] * 1.5, f"no back-off between attempts: {gaps}"
    [row] = stack.store.messages(account)
    assert row.status == "sent" and stack.store.delivered(row.key)
    actions = stack.store.actions(account=account)
    assert [a.kind for a in actions if a.kind in ("email", "failed")] == ["email"]
    print(f"\nattempt failures seen: {failures}; gaps between the last attempts: {[round(g, 1) for g in gaps]} s")


async def _last_failure_has(stack: Stack, wid: str, text: str, seen: list[str]) -> bool:
    activity = await pending_activity(stack.client, wid)
    if activity is None:
        return False
    seen.append(activity.last_failure.message)
    return text in activity.last_failure.message
