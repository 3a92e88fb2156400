"""`playbook worker`: a worker against a configured Temporal cluster and database.

Scale out by running more of them on the same task queue. It refuses to start when the
database schema is not current (run `playbook migrate`) or Temporal cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from engine.settings import Settings

__all__ = ["register", "run"]


async def _serve(settings: Settings, scheduler: bool) -> int:
    from temporalio.client import Client

    from activities.plugin_config import PluginNotConfigured, bundle_configs
    from activities.registry import load_registry
    from cli.playbook_loading import PlaybookErrors, load_bundle, start_scheduler
    from engine.store import Store, StoreUnavailable
    from workers.process_clock import process_starter
    from workers.running_versions import running_version_problems
    from workers.runtime import DATA_CONVERTER, build_worker, quiet_runtime
    from workers.worker_context import worker_context

    registry = load_registry()
    try:
        bundle = load_bundle(settings.playbooks, registry)
        bundle_configs(registry, bundle)
    except (PlaybookErrors, PluginNotConfigured) as error:
        print(error, file=sys.stderr)
        print("playbook worker: not starting", file=sys.stderr)
        return 1
    try:
        store = Store.open(settings.store_url, migrate=False)
    except StoreUnavailable as error:
        print(f"playbook worker: {error}", file=sys.stderr)
        return 1
    try:
        client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                      data_converter=DATA_CONVERTER, runtime=quiet_runtime())
    except Exception as error:
        print(f"playbook worker: cannot reach Temporal at {settings.temporal_address}: {error}", file=sys.stderr)
        store.close()
        return 1
    stale = await running_version_problems(client, store, registry, bundle)
    for line in stale:
        print(f"playbook worker: {line}", file=sys.stderr)
    if stale and settings.plugin_params_check == "refuse":
        print("playbook worker: not starting: running journeys call plugins with parameters the installed "
              "releases refuse (give the old names as aliases, or set PLAYBOOK_PLUGIN_PARAMS_CHECK=warn)",
              file=sys.stderr)
        store.close()
        return 1
    starter = process_starter(client, settings, store)
    context = worker_context(settings, store, bundle, starter)
    for failed in registry.errors:
        print(f"plugin {failed.plugin} did not load: {failed.error}", file=sys.stderr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_worker(client, settings.task_queue, registry, context):
        if scheduler:
            await start_scheduler(client, settings.task_queue, settings)
        print(f"playbook worker: {len(bundle.playbooks)} playbooks, task queue {settings.task_queue} "
              f"on {settings.temporal_address}", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await stop.wait()
    store.close()
    return 0


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(_serve(Settings(), scheduler=not args.no_scheduler))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker", help="run a worker against the configured Temporal cluster and database",
        description="Run journeys from the configured task queue (PLAYBOOK_TEMPORAL_ADDRESS, "
                    "PLAYBOOK_DATABASE_URL, ... or playbook.toml).")
    parser.add_argument("--no-scheduler", action="store_true",
                        help="do not make sure the scheduler of time-based triggers runs")
    parser.set_defaults(handler=run)
