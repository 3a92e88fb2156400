"""`playbook dev`: the whole product on one machine, with nothing to install by hand.

It checks the playbooks first (and refuses to start on errors) and that the ports it needs are
free, then starts, in order: Temporal's dev server (a SQLite file in the state folder, with its
web UI), the store (a SQLite file), a local SMTP sink that keeps every message (`playbook
outbox` lists them), a worker, the scheduler of time-based triggers and the HTTP API; it prints
where each one is. Ctrl-C (or SIGTERM, or closing the terminal) stops them all, in reverse
order. Everything lives in the state folder, so the next `playbook dev` resumes where this one
stopped: journeys mid-flight continue.

With `smtp_sink=False` (`playbook dev --no-smtp-sink`) no sink is started and mail goes to the
relay of the settings (`PLAYBOOK_SMTP_HOST`, `PLAYBOOK_SMTP_PORT`, …), like `playbook worker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from temporalio.client import Client

from activities.plugin_config import PluginNotConfigured, bundle_configs
from activities.registry import load_registry
from cli.playbook_loading import PlaybookErrors, load_bundle, start_scheduler
from dsl import ir
from engine.settings import Settings
from engine.store import Store, StoreUnavailable
from server.smtp_sink import SmtpSink, outbox_folder
from workers.journey_generations import end_earlier_generations
from workers.process_clock import ClockUnavailable, checked_clock, process_starter
from workers.running_versions import running_version_problems
from workers.runtime import build_worker
from workers.temporal_server import DevServer, DevServerError
from workers.worker_context import worker_context

if TYPE_CHECKING:
    import uvicorn

__all__ = ["DevStack", "DevStackError", "PlaybookErrors", "load_bundle", "run_until_interrupted",
           "start_scheduler"]

UI_PORT_OFFSET = 1000  # Temporal's web UI listens on the gRPC port + 1000, as the CLI does by default
API_START_TIMEOUT_SECONDS = 30.0


class DevStackError(Exception):
    """The stack cannot start (a port in use, Temporal failing); the message says what to do."""


def _host_and_port(address: str, default_port: int) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        return address or "127.0.0.1", default_port
    return host or "127.0.0.1", int(port)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listening_socket(host: str, port: int, what: str, hint: str) -> socket.socket:
    """A TCP socket bound to `host:port`, or a `DevStackError` that says who to blame."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart finds the port in TIME_WAIT
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise DevStackError(f"port {port} on {host} ({what}) is in use: is another `playbook dev` "
                                f"running? {hint}") from None
        raise DevStackError(f"cannot listen on {host}:{port} ({what}): {error.strerror or error}. {hint}") from None
    return sock


def _check_free(host: str, port: int, what: str, hint: str) -> None:
    _listening_socket(host, port, what, hint).close()


@dataclass
class DevStack:
    settings: Settings
    smtp_sink: bool = True  # False: mail goes to the configured relay, no local sink
    server: DevServer | None = field(default=None, init=False)

    def _dev_server(self) -> DevServer:
        host, port = _host_and_port(self.settings.temporal_address, 7233)
        return DevServer(self.settings.state_dir / "temporal", host=host, port=port,
                         ui_port=port + UI_PORT_OFFSET, namespace=self.settings.temporal_namespace)

    def _preflight(self, server: DevServer) -> socket.socket:
        """Fail fast, before anything starts, on a port that is taken; returns the API's socket."""
        s = self.settings
        if server.ui_port > 65535:
            raise DevStackError(f"Temporal's port {server.port} leaves no room for its web UI on port "
                                f"{server.ui_port}: pick a port below {65536 - UI_PORT_OFFSET}")
        temporal_hint = "Set PLAYBOOK_TEMPORAL_ADDRESS=127.0.0.1:PORT to use another (its web UI takes PORT+1000)."
        _check_free(server.host, server.port, "Temporal", temporal_hint)
        _check_free(server.host, server.ui_port, "Temporal's web UI", temporal_hint)
        if self.smtp_sink:
            _check_free(s.smtp_host, s.smtp_port, "the SMTP sink", "Set PLAYBOOK_SMTP_PORT to use another.")
        return _listening_socket(s.api_host, s.api_port, "the HTTP API", "Use --port or PLAYBOOK_API_PORT.")

    async def run(self, stop: asyncio.Event | None = None, ready: asyncio.Event | None = None) -> None:
        """Run until `stop` is set (or the API stops); `ready` is set once every part serves."""
        import uvicorn

        from server.app import create_app, server_config

        settings = self.settings
        stop = stop or asyncio.Event()
        registry = load_registry()
        bundle = load_bundle(settings.playbooks, registry)
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.server = server = self._dev_server()
        api_socket = self._preflight(server)
        sink = SmtpSink(outbox_folder(settings.state_dir), settings.smtp_host, settings.smtp_port)
        store: Store | None = None
        try:
            try:
                client = await server.start()
            except DevServerError as error:
                raise DevStackError(str(error)) from error
            try:
                store = Store.open(settings.store_url)
            except StoreUnavailable as error:
                raise DevStackError(str(error)) from error
            if self.smtp_sink:
                sink.start()
            await self._end_earlier_generations(client, store)
            stale = await running_version_problems(client, store, registry, bundle)
            for line in stale:
                print(f"playbook dev: {line}", file=sys.stderr)
            if stale and settings.plugin_params_check == "refuse":
                raise DevStackError("running journeys call plugins with parameters the installed releases refuse "
                                    "(give the old names as aliases, or set PLAYBOOK_PLUGIN_PARAMS_CHECK=warn)")
            starter = process_starter(client, settings, store)
            context = worker_context(settings, store, bundle, starter)
            for failed in registry.errors:
                print(f"plugin {failed.plugin} did not load: {failed.error}", file=sys.stderr)
            try:
                bundle_configs(registry, bundle)
            except PluginNotConfigured as error:
                raise DevStackError(str(error)) from error
            try:
                clock = await checked_clock(settings, client)
            except ClockUnavailable as error:
                raise DevStackError(str(error)) from error
            app = create_app(settings, store, bundle, starter, clock=clock, local_dev=True)
            api = uvicorn.Server(server_config(app, settings, log_level="warning", lifespan="on"))
            async with build_worker(client, settings.task_queue, registry, context):
                await start_scheduler(client, settings.task_queue, settings)
                serving = asyncio.create_task(api.serve(sockets=[api_socket]))
                try:
                    await self._until_serving(api, serving)
                    self._banner(server, bundle)
                    if ready is not None:
                        ready.set()
                    stopped = asyncio.create_task(stop.wait())
                    await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
                    stopped.cancel()
                finally:
                    api.should_exit = True
                    with contextlib.suppress(asyncio.CancelledError):
                        await serving
        finally:
            api_socket.close()
            sink.stop()
            server.stop()
            if store is not None:
                store.close()

    @staticmethod
    async def _until_serving(api: uvicorn.Server, serving: asyncio.Task[None]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + API_START_TIMEOUT_SECONDS
        while not api.started:
            if serving.done():
                serving.result()  # the API's own error, if it has one
                raise DevStackError("the HTTP API stopped while starting")
            if loop.time() > deadline:
                raise DevStackError(f"the HTTP API did not start within {API_START_TIMEOUT_SECONDS:g} s")
            await asyncio.sleep(0.05)

    @staticmethod
    async def _end_earlier_generations(client: Client, store: Store) -> None:
        """Journeys the resumed state holds from an earlier engine generation: no worker here runs
        them, so they end now, and the stack says so."""
        ended = await end_earlier_generations(client, store, datetime.now(UTC))
        if ended:
            kinds = ", ".join(sorted({journey.workflow_type for journey in ended}))
            print(f"playbook dev: ended {len(ended)} running journey(s) of an earlier engine generation ({kinds}); "
                  "their accounts enter again on their next trigger", file=sys.stderr)

    def _banner(self, server: DevServer, bundle: ir.Bundle) -> None:
        s = self.settings
        if self.smtp_sink:
            mail = (f"  SMTP sink       {s.smtp_host}:{s.smtp_port}  (keeps every message in "
                    f"{outbox_folder(s.state_dir)}; `playbook outbox` lists them)")
        else:
            mail = f"  SMTP relay      {s.smtp_host}:{s.smtp_port}  (no local sink)"
        token = "API token from PLAYBOOK_API_TOKEN" if s.api_token is not None else "no API token: open to all"
        lines = [
            f"playbook dev: {len(bundle.playbooks)} playbooks from {s.playbooks}, state in {s.state_dir}",
            f"  dashboard       {s.base_url}/",
            f"  HTTP API        {s.base_url}  (docs: {s.base_url}/docs; {token})",
            f"  Temporal        {server.address}  (web UI: {server.ui_url}; log: {server.log})",
            mail,
            f"  store           {s.store_url}",
            "  Ctrl-C stops everything; the next `playbook dev` resumes where this one stopped.",
        ]
        print("\n".join(lines), flush=True)


@contextlib.contextmanager
def _on_signals(loop: asyncio.AbstractEventLoop, handler: Callable[[], None]) -> Iterator[None]:
    signals = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):
        signals.append(signal.SIGHUP)  # the terminal closed
    for sig in signals:
        loop.add_signal_handler(sig, handler)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def run_until_interrupted(settings: Settings, *, smtp_sink: bool = True) -> int:
    """Run the stack until Ctrl-C, SIGTERM or SIGHUP; exit status 1 when it cannot start.

    A signal while the stack starts cancels the start (whatever already runs is stopped); once
    it serves, a signal stops it in order.
    """

    async def main() -> None:
        stop, ready = asyncio.Event(), asyncio.Event()
        running = asyncio.create_task(DevStack(settings, smtp_sink=smtp_sink).run(stop, ready))

        def interrupted() -> None:
            stop.set()
            if not ready.is_set():
                running.cancel()

        with _on_signals(asyncio.get_running_loop(), interrupted):
            try:
                await running
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise

    try:
        asyncio.run(main())
    except PlaybookErrors as error:
        print(error, file=sys.stderr)
        return 1
    except DevStackError as error:
        print(f"playbook dev: {error}", file=sys.stderr)
        return 1
    print("playbook dev: stopped", file=sys.stderr)
    return 0
