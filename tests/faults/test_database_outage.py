"""The store's PostgreSQL stopped and started again (`.ci/postgres.sh --stop`, then again)
under a running `playbook api`.

Events accepted before the outage are not lost; while the database is down a batch is not
stored, and the API should say so with a retryable answer (503 and `Retry-After`) rather than
a 500; the background routing waits and resumes by itself once the database is back; the same
batch sent again is stored once and its journeys start once. Runs when
`PLAYBOOK_TEST_POSTGRES_URL` names a database it may wipe (see docs/operations.md, "Testing
against PostgreSQL"); the API here starts journeys on a task queue that no worker polls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import create_engine, func, select

from engine.store import Store
from engine.store.schema import events
from tests.faults.conftest import Stack
from tests.faults.stack import (
    Process,
    drained,
    eventually,
    free_port,
    journeys_started,
    post,
    postgres,
    send,
    signup,
    start_api,
)
from tests.stores import POSTGRES_URL, wipe

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUEUE = "faults-postgres"


@dataclass(frozen=True)
class Outage:
    before: list[dict[str, Any]]  # accepted before the database stopped
    during: list[dict[str, Any]]  # sent while it was down, then again once it was back
    answer_while_down: httpx.Response
    answers_after: list[int]
    stored: Counter[str]  # event id -> rows, once the database was back
    journeys: Counter[str]  # workflow id -> executions


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def outage(stack: Stack) -> AsyncIterator[Outage]:
    if not POSTGRES_URL:
        pytest.skip("PLAYBOOK_TEST_POSTGRES_URL is not set: run `bash .ci/postgres.sh` (it starts a local "
                    "PostgreSQL and prints the URL) and export it to run the database outage tests")
    wipe(POSTGRES_URL)
    Store.open(POSTGRES_URL).close()  # migrated
    env = {**stack.env(api_port=free_port()), "PLAYBOOK_DATABASE_URL": POSTGRES_URL, "PLAYBOOK_TASK_QUEUE": QUEUE}
    port = int(env["PLAYBOOK_API_PORT"])
    before = [line for n in range(10) for line in signup(f"pg-before-{n}")]
    during = [line for n in range(10) for line in signup(f"pg-during-{n}")]
    api: Process | None = None
    stopped = False
    try:
        api = await start_api(env, stack.logs / "postgres-api.log")
        await send(port, before)

        postgres("--stop")
        stopped = True
        answer_while_down = await post(port, during)
        url = postgres("--url")
        stopped = False
        assert url == POSTGRES_URL, f"PostgreSQL came back at another address: {url}"

        answers_after: list[int] = []

        async def resent() -> bool:
            response = await post(port, during)
            answers_after.append(response.status_code)
            return response.status_code == 202

        await eventually(resent, "the batch sent again to be accepted", timeout=60, every=1.0)
        await drained(port)  # routing resumed by itself
        engine = create_engine(POSTGRES_URL)
        try:
            with engine.connect() as conn:
                stored = Counter(row.id for row in conn.execute(select(events.c.id)))
                unrouted = conn.execute(select(func.count()).select_from(events)
                                        .where(events.c.routed_at.is_(None))).scalar_one()
        finally:
            engine.dispose()
        assert unrouted == 0

        async def all_started() -> list[str]:
            started = await journeys_started(stack.client, QUEUE)
            return started if len(set(started)) >= 20 else []

        started = await eventually(all_started, "every journey to be visible", timeout=60, every=1.0)
        yield Outage(before, during, answer_while_down, answers_after, stored, Counter(started))
    finally:
        if stopped:
            postgres("--url")
        if api is not None:
            api.kill()


async def test_events_accepted_before_a_database_outage_are_kept_and_a_batch_resent_after_it_is_stored_once(
        outage: Outage) -> None:
    sent = [line["id"] for line in outage.before + outage.during]
    assert {event_id: outage.stored[event_id] for event_id in sent} == dict.fromkeys(sent, 1)
    assert len(outage.stored) == len(sent)
    assert outage.answers_after[-1] == 202
    expected = {f"journey/drill/pg-{phase}-{n}" for phase in ("before", "during") for n in range(10)}
    assert set(outage.journeys) == expected
    assert set(outage.journeys.values()) == {1}, outage.journeys
    # Whatever it answered, the API did not drop the batch silently: it was not a 2xx.
    assert outage.answer_while_down.status_code >= 500


async def test_ingestion_answers_a_retryable_503_while_the_database_is_down(outage: Outage) -> None:
    answer = outage.answer_while_down
    assert answer.status_code == 503, f"{answer.status_code}: {answer.text[:500]}"
    assert answer.headers.get("retry-after")
