"""`playbook dev`: the whole product on one machine, with nothing to install by hand.

It checks the playbooks first (and refuses to start on errors), then starts, in order:
Temporal's dev server (a SQLite file in the state folder, with its web UI), the store (a SQLite
file), a local SMTP sink that keeps every message (`playbook outbox` lists them), a worker, the
scheduler of time-based triggers and the HTTP API; it prints where each one is. Ctrl-C stops
them all, in reverse order. Everything lives in the state folder, so the next `playbook dev`
resumes where this one stopped: journeys mid-flight continue.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from activities.context import ActivityContext
from activities.registry import load_registry
from activities.smtp_mailer import SmtpMailer
from dsl import ir
from dsl.diagnostics import render_all
from dsl.project import compile_folder
from engine.settings import Settings
from engine.starter import JourneyStarter
from engine.store import Store
from engine.workflows.scheduler import SCHEDULER_ID, SchedulerInput
from workers.runtime import build_worker
from workers.smtp_sink import SmtpSink
from workers.temporal_server import DevServer

__all__ = ["DevStack", "load_bundle", "start_scheduler"]


class PlaybookErrors(Exception):
    """The playbooks folder has errors: the stack does not start."""


def load_bundle(folder: Path) -> ir.Bundle:
    compilation = compile_folder(folder)
    if not compilation.ok or compilation.bundle is None:
        errors = [d for d in compilation.diagnostics if d.is_error]
        raise PlaybookErrors(render_all(errors, compilation.sources) +
                             f"\n{len(errors)} error(s) in {folder}: fix them, then start again")
    return compilation.bundle


async def start_scheduler(client: Client, task_queue: str) -> None:
    """Start the one scheduler of time-based triggers, unless it already runs."""
    await client.start_workflow("scheduler", SchedulerInput(), id=SCHEDULER_ID, task_queue=task_queue,
                                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)


def _port(address: str, default: int) -> int:
    _, _, port = address.rpartition(":")
    return int(port) if port.isdigit() else default


@dataclass
class DevStack:
    settings: Settings

    async def run(self, stop: asyncio.Event | None = None, ready: asyncio.Event | None = None) -> None:
        import uvicorn

        from workers.api.app import create_app

        settings = self.settings
        stop = stop or asyncio.Event()
        bundle = load_bundle(settings.playbooks)
        state = settings.state_dir
        state.mkdir(parents=True, exist_ok=True)
        port = _port(settings.temporal_address, 7233)
        server = DevServer(state / "temporal", port=port, ui_port=port + 1000,
                           namespace=settings.temporal_namespace)
        sink = SmtpSink(state / "outbox", settings.smtp_host, settings.smtp_port)
        store: Store | None = None
        try:
            client = await server.start()
            store = Store.open(settings.store_url)
            sink.start()
            starter = JourneyStarter(client, settings.task_queue, store)
            context = ActivityContext(
                store=store, bundle=bundle, starter=starter, mailer=SmtpMailer(settings),
                public_url=settings.base_url,
                extras={"unsubscribe_secret": settings.unsubscribe_secret.get_secret_value()})
            registry = load_registry()
            for failed in registry.errors:
                print(f"plugin {failed.plugin} did not load: {failed.error}", file=sys.stderr)
            app = create_app(settings, store, bundle, starter)
            api = uvicorn.Server(uvicorn.Config(app, host=settings.api_host, port=settings.api_port,
                                                log_level="warning", lifespan="off"))
            async with build_worker(client, settings.task_queue, registry, context):
                await start_scheduler(client, settings.task_queue)
                serving = asyncio.create_task(api.serve())
                self._banner(server, bundle)
                if ready is not None:
                    ready.set()
                stopped = asyncio.create_task(stop.wait())
                await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
                api.should_exit = True
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
                stopped.cancel()
        finally:
            sink.stop()
            server.stop()
            if store is not None:
                store.close()

    def _banner(self, server: DevServer, bundle: ir.Bundle) -> None:
        s = self.settings
        lines = [
            f"playbook dev: {len(bundle.playbooks)} playbooks from {s.playbooks}, state in {s.state_dir}",
            f"  HTTP API        {s.base_url}  (docs: {s.base_url}/docs)",
            f"  Temporal        {server.address}  (web UI: {server.ui_url})",
            f"  SMTP sink       {s.smtp_host}:{s.smtp_port}  (playbook outbox lists what it received)",
            f"  store           {s.store_url}",
            "  Ctrl-C stops everything; the next `playbook dev` resumes where this one stopped.",
        ]
        print("\n".join(lines), flush=True)


def run_until_interrupted(settings: Settings) -> int:
    """Run the stack until Ctrl-C or SIGTERM; exit status 1 when the playbooks have errors."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await DevStack(settings).run(stop)

    try:
        asyncio.run(main())
    except PlaybookErrors as error:
        print(error, file=sys.stderr)
        return 1
    print("playbook dev: stopped", file=sys.stderr)
    return 0
