"""The real `playbook dev` as a subprocess: free ports, a state folder of its own, its output kept.

`DevProcess` starts the command the way a user does (the `playbook` script of this Python),
waits for the banner and for the API to answer, and stops it with SIGINT like Ctrl-C does. It
finds the Temporal server it started by the database file in the state folder, so a test can
assert that none is left behind; the fixture's teardown kills whatever a failed test left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.live_api import free_port
from workers.temporal_server import DevServerError, temporal_cli

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-api-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
START_TIMEOUT = 120.0  # seconds: Temporal's dev server on a loaded 2-core machine can take a while
STOP_TIMEOUT = 60.0
BANNER_END = "Ctrl-C stops everything"

T = TypeVar("T")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Ports:
    temporal: int  # its web UI takes temporal + 1000
    api: int
    smtp: int

    @classmethod
    def pick(cls) -> Ports:
        taken: set[int] = set()
        for _ in range(200):
            temporal = random.randrange(20000, 60000)
            if _free(temporal) and _free(temporal + 1000):
                taken = {temporal, temporal + 1000}
                break
        else:
            raise RuntimeError("no free pair of ports for Temporal and its web UI")
        others: list[int] = []
        while len(others) < 2:
            port = free_port()
            if port not in taken:
                taken.add(port)
                others.append(port)
        return cls(temporal=temporal, api=others[0], smtp=others[1])


def playbook_command() -> list[str]:
    script = Path(sys.executable).parent / "playbook"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def temporal_processes(state: Path) -> list[int]:
    """The pids of live Temporal dev servers whose database is in `state`."""
    marker = str(state.resolve() / "temporal" / "temporal.db").encode()
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if b"start-dev" in cmdline and marker in cmdline and "State:\tZ" not in status:
            found.append(int(entry.name))
    return found


async def until(what: str, probe: Callable[[], Awaitable[T | None]], timeout: float = 60.0,
                interval: float = 0.25) -> T:
    """Poll `probe` until it returns something other than None (or False); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = await probe()
        if last is not None and last is not False:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


@dataclass
class DevProcess:
    """`playbook dev FOLDER --state-dir STATE` with the ports and token of `env`."""

    folder: Path
    state: Path
    ports: Ports
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    _banner_seen: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PLAYBOOK_")}
        env.update(PLAYBOOK_TEMPORAL_ADDRESS=f"127.0.0.1:{self.ports.temporal}",
                   PLAYBOOK_API_PORT=str(self.ports.api), PLAYBOOK_SMTP_PORT=str(self.ports.smtp),
                   PLAYBOOK_API_TOKEN=TOKEN, PLAYBOOK_UNSUBSCRIBE_SECRET="e2e-unsubscribe-secret",
                   PYTHONUNBUFFERED="1")
        return env

    def text(self) -> str:
        return "".join(self.output)

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)
            if BANNER_END in line:
                self._banner_seen.set()

    async def start(self) -> str:
        """Start the stack; returns the banner once the API answers."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.output.clear()
        self._banner_seen.clear()
        command = [*playbook_command(), "dev", str(self.folder), "--state-dir", str(self.state), *self.extra_args]
        self.process = subprocess.Popen(command, cwd=self.state.parent, env=self.env(), stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        process = self.process

        async def banner() -> bool | None:
            if process.poll() is not None:
                raise AssertionError(f"playbook dev exited with {process.returncode}:\n{self.text()}")
            return self._banner_seen.is_set() or None

        await until("the banner of playbook dev", banner, timeout=START_TIMEOUT)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            health = await client.get("/healthz")
        assert health.status_code == 200, health.text
        return self.text()

    async def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Send `sig` (Ctrl-C by default) and wait for the process to exit; returns its status."""
        process = self.process
        assert process is not None
        process.send_signal(sig)
        status = await asyncio.to_thread(process.wait, STOP_TIMEOUT)
        return status

    def kill(self) -> None:
        """Teardown after a failure: nothing this fixture started survives the test."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        for pid in temporal_processes(self.state):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def dev_stack(tmp_path: Path) -> Iterator[Callable[..., DevProcess]]:
    """A factory of `DevProcess`es in this test's temporary folder; all killed at teardown."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the checks for leftover processes read /proc")
    try:
        temporal_cli()
    except DevServerError as error:
        pytest.skip(str(error))
    made: list[DevProcess] = []

    def make(folder: Path = ROOT / "playbooks", extra_args: list[str] | None = None,
             ports: Ports | None = None) -> DevProcess:
        stack = DevProcess(folder=folder, state=tmp_path / f"state{len(made)}", ports=ports or Ports.pick(),
                           extra_args=extra_args or [])
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.kill()
