"""Parts of a simulation in processes of their own, and how they stop.

`PartProcess.start(run, *args)` runs the coroutine function `run(*args)` in a new process
(forked from a clean `forkserver` process that has imported `run`'s module, or spawned: the
worker's threads, Temporal's core among them, do not survive a fork of this one) and
`await part.result()` hands back its return value or raises its exception. Stopping is the
simulating process's business alone:

- a split-off process ignores Ctrl-C (the terminal sends it to the whole process group); the
  simulating process, interrupted, stops each one with `stop()`: SIGTERM, which cancels its
  simulation so that its test server is shut down on the way out;
- a split-off process whose simulating process is gone (killed outright) stops its own child
  processes (its test server) and ends at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

__all__ = ["PartProcess", "child_processes"]

STOP_SECONDS = 15.0  # how long a stopped process has to shut its test server down


class PartProcess:
    def __init__(self, process: BaseProcess, receiver: Connection) -> None:
        self.process, self.receiver = process, receiver

    @classmethod
    def start(cls, run: Callable[..., Awaitable[Any]], *args: Any) -> PartProcess:
        context = _context(run.__module__)
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_main, args=(run, args, sender, os.getpid()), name="playbook-simulate-part")
        process.start()
        sender.close()
        return cls(process, receiver)

    async def result(self) -> Any:
        """The part's return value, or its exception raised here."""
        try:
            ok, value = await asyncio.get_running_loop().run_in_executor(None, self.receiver.recv)
        except EOFError:
            self.process.join(STOP_SECONDS)
            raise RuntimeError(f"a simulating process ended without its result (exit status "
                               f"{self.process.exitcode})") from None
        finally:
            self.receiver.close()
        self.process.join(STOP_SECONDS)
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        """Ask the process to stop (its simulation is cancelled, its test server shut down) and
        wait for it; end it outright if it takes too long."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _context(module: str) -> SpawnContext | ForkServerContext:
    """`forkserver` where there is one: a clean process that imports `module` once (before any
    thread starts) and forks each part from it, so the parts do not each import the engine; else
    `spawn`. Never a plain fork of this process: the worker's threads do not survive one."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([module])
    return context


def _main(run: Callable[..., Awaitable[Any]], args: tuple[Any, ...], sender: Connection, parent: int) -> None:
    """A split-off process: run the part and send back (True, value) or (False, exception)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_stop_when_orphaned, args=(parent,), daemon=True).start()
    try:
        outcome: tuple[bool, Any] = (True, asyncio.run(_until_stopped(run, args)))
    except BaseException as error:  # every failure goes back to the simulating process
        outcome = (False, error if isinstance(error, Exception) else RuntimeError("stopped"))
    try:
        sender.send(outcome)
    except Exception as error:  # e.g. an exception that does not pickle
        with contextlib.suppress(OSError):
            sender.send((False, RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]} ({error})")))
    finally:
        sender.close()


async def _until_stopped(run: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> Any:
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run(*args)


def _stop_when_orphaned(parent: int, every: float = 0.5) -> None:
    """End this process, and its test server, when the simulating process is gone (killed): its
    part of the simulation has nobody left to report to."""
    while _alive(parent):
        time.sleep(every)
    for child in child_processes(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGTERM)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Whether the process `pid` still exists (the simulating process is not this one's parent
    when it came from the fork server)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def child_processes(pid: int) -> list[int]:
    """The child processes of `pid` (Linux: from /proc; elsewhere none are found)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(name))
    return found
