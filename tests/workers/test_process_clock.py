"""The clock of the live processes: the machine's, or the Temporal test server's, less an offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client

from engine.settings import Settings
from tests.live_api import free_port, time_skipping
from workers.process_clock import ClockUnavailable, checked_clock, process_clock
from workers.runtime import DATA_CONVERTER, quiet_runtime


async def test_the_wall_clock_less_its_offset() -> None:
    clock = process_clock(Settings(clock="wall", clock_offset_seconds=86400))
    now = await clock.now()
    assert abs(now - (datetime.now(UTC) - timedelta(days=1))) < timedelta(seconds=5)


async def test_the_server_clock_reads_the_test_servers_time_less_its_offset() -> None:
    env = await time_skipping()
    async with env:
        await env.sleep(timedelta(days=30))  # the server's clock is now a month ahead of the wall clock
        clock = await checked_clock(Settings(clock="server", clock_offset_seconds=3600), env.client)
        server = await env.get_current_time()
        now = await clock.now()
    assert abs(now - (server - timedelta(hours=1))) < timedelta(seconds=5)
    assert now - datetime.now(UTC) > timedelta(days=29)


async def test_a_server_clock_that_cannot_be_read_refuses_to_start_with_the_way_out() -> None:
    client = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=DATA_CONVERTER,
                                  runtime=quiet_runtime())
    with pytest.raises(ClockUnavailable, match="Use PLAYBOOK_CLOCK=wall"):
        await checked_clock(Settings(clock="server"), client)
