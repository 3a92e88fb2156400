"""The clock and the journey starter of a live process (API, worker, dev stack), from the settings.

`PLAYBOOK_CLOCK=wall` (the default) is the machine's clock. `PLAYBOOK_CLOCK=server` is the
Temporal server's own time, which only the time-skipping test server reports: processes run
against it keep the same time as the journeys, however far the server skips (the conformance
suite runs months of timeline that way, through the production code path). Either way
`PLAYBOOK_CLOCK_OFFSET_SECONDS` is subtracted, and every journey started gets the same offset.
"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import empty_pb2
from temporalio.client import Client

from engine.clock import Clock
from engine.routing.starter import JourneyStarter
from engine.settings import Settings
from engine.store import Store

__all__ = ["ClockUnavailable", "checked_clock", "process_clock", "process_starter"]


class ClockUnavailable(Exception):
    """The configured clock cannot be read: the process should not start."""


def process_clock(settings: Settings, client: Client | None = None) -> Clock:
    if settings.clock == "wall":
        return Clock(settings.clock_offset_seconds)
    if client is None:
        raise ValueError("PLAYBOOK_CLOCK=server needs a connection to the Temporal server")

    async def server_time() -> datetime:
        answer = await client.test_service.get_current_time(empty_pb2.Empty())
        return answer.time.ToDatetime(tzinfo=UTC)

    return Clock(settings.clock_offset_seconds, server_time, name="server")


async def checked_clock(settings: Settings, client: Client) -> Clock:
    """`process_clock`, read once: a server that reports no time of its own is refused at start."""
    clock = process_clock(settings, client)
    try:
        await clock.now()
    except Exception as error:
        raise ClockUnavailable(
            f"PLAYBOOK_CLOCK=server reads the Temporal server's own time, which only the time-skipping test server "
            f"reports; {settings.temporal_address} does not ({type(error).__name__}). Use PLAYBOOK_CLOCK=wall "
            "(the default) with any other server.") from error
    return clock


def process_starter(client: Client, settings: Settings, store: Store) -> JourneyStarter:
    """The journey starter of a live process: its journeys keep the process's clock and horizon."""
    return JourneyStarter(client, settings.task_queue, store, clock_offset_seconds=settings.clock_offset_seconds,
                          horizon=settings.trigger_horizon)
