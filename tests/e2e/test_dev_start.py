"""How `playbook dev` starts: it refuses a taken port before it starts anything, and an
interruption while it starts leaves nothing running.

Without the port check, a second stack would connect to the first one's Temporal server (the
port answers) and run its journeys against someone else's state.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.dev_stack import DevStack, DevStackError
from engine.settings import Settings
from tests.e2e.conftest import ROOT, Ports, temporal_processes, until


@pytest.fixture
def ports() -> Ports:
    return Ports.pick()


@pytest.fixture
def taken() -> Iterator[list[socket.socket]]:
    """Sockets listening on the ports a test occupies; closed at teardown."""
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


def occupy(port: int, sockets: list[socket.socket]) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    sockets.append(sock)


def settings(state: Path, ports: Ports) -> Settings:
    return Settings(playbooks=ROOT / "playbooks", state_dir=state, temporal_address=f"127.0.0.1:{ports.temporal}",
                    api_port=ports.api, smtp_port=ports.smtp)


@pytest.mark.parametrize(("which", "what"), [
    ("temporal", "Temporal"), ("ui", "Temporal's web UI"), ("smtp", "the SMTP sink"), ("api", "the HTTP API")])
async def test_a_taken_port_stops_the_start_before_anything_runs(
        tmp_path: Path, ports: Ports, taken: list[socket.socket], which: str, what: str) -> None:
    port = {"temporal": ports.temporal, "ui": ports.temporal + 1000, "smtp": ports.smtp, "api": ports.api}[which]
    occupy(port, taken)
    stack = DevStack(settings(tmp_path / "state", ports))
    with pytest.raises(DevStackError, match=rf"port {port} on 127\.0\.0\.1 \({what}\) is in use"):
        await stack.run()
    assert temporal_processes(tmp_path / "state") == []
    assert not (tmp_path / "state" / "temporal").exists()


async def test_without_the_sink_the_smtp_port_may_be_taken_by_the_relay(
        tmp_path: Path, ports: Ports, taken: list[socket.socket]) -> None:
    """`--no-smtp-sink`: the SMTP port is the relay's, so a listener there is expected, not a conflict."""
    occupy(ports.smtp, taken)
    occupy(ports.api, taken)  # stops the start at the API's port, the last check, before Temporal runs
    stack = DevStack(settings(tmp_path / "state", ports), smtp_sink=False)
    with pytest.raises(DevStackError, match=r"\(the HTTP API\) is in use"):
        await stack.run()


async def test_an_interruption_while_starting_leaves_no_temporal_server(tmp_path: Path, ports: Ports) -> None:
    """What Ctrl-C during the start does (`run_until_interrupted` cancels the start)."""
    state = tmp_path / "state"
    ready = asyncio.Event()
    running = asyncio.create_task(DevStack(settings(state, ports)).run(ready=ready))

    async def temporal_started() -> bool:
        if running.done():
            running.result()
        return bool(temporal_processes(state))

    await until("Temporal's dev server to start", temporal_started, timeout=60, interval=0.05)
    assert not ready.is_set()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert temporal_processes(state) == []
