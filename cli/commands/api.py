"""`playbook api [DIR] [--host H] [--port P]`: serve the HTTP API and the dashboard (`server/app.py`)
with uvicorn.

It runs against the configured Temporal address and database (`PLAYBOOK_TEMPORAL_ADDRESS`,
`PLAYBOOK_DATABASE_URL`, … or `playbook.toml`) and the compiled playbooks of DIR (default: the
`playbooks` setting). It never migrates the database itself: it refuses to start, with a message
saying what to do, when the schema is not at the version this package needs, when the
playbooks do not compile, or when Temporal cannot be reached.

With no API token configured it says so in its log and accepts every request (the dev stack).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from cli.commands import existing_folder
from cli.commands.check import report
from cli.playbook_loading import check_report, compile_playbooks
from dsl import ir
from engine.settings import Settings
from engine.store import Store
from engine.store.database import Database
from engine.store.migrate import current_revision, head_revision
from workers.process_clock import ClockUnavailable, checked_clock, process_starter
from workers.runtime import DATA_CONVERTER, quiet_runtime

__all__ = ["StartupError", "connect_temporal", "open_store", "register", "run"]

CONNECT_TIMEOUT_SECONDS = 10.0

log = logging.getLogger("playbook.api")


class StartupError(Exception):
    """The API cannot start; the message says why and what to do."""


def masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(the configured database URL)"


def open_store(url: str) -> Store:
    """The store at `url`, provided its schema is current; the API does not migrate it."""
    where = masked(url)
    try:
        database = Database(url)
    except Exception as error:
        raise StartupError(f"cannot use the database URL {where}: {error}") from error
    try:
        found, needed = current_revision(database), head_revision(url)
    except SQLAlchemyError as error:
        database.dispose()
        origin = getattr(error, "orig", None)
        reason = str(origin if origin is not None else error)
        raise StartupError(f"cannot read the database at {where}: {reason.splitlines()[0]}") from error
    store = Store(database)
    if found != needed:
        store.close()
        state = "has no schema yet" if found is None else f"is at schema revision {found}"
        raise StartupError(
            f"the database at {where} {state}; this version of playbook needs revision {needed}. "
            "Bring it up to date first with `playbook migrate` (`playbook dev` migrates its own store "
            "when it starts), then start the API again.")
    return store


async def connect_temporal(settings: Settings) -> Client:
    """A client on the configured Temporal, checked to answer and to know the namespace."""
    address, namespace = settings.temporal_address, settings.temporal_namespace
    hint = "Start Temporal (`playbook dev` runs one) or set PLAYBOOK_TEMPORAL_ADDRESS."
    try:
        client = await asyncio.wait_for(
            Client.connect(address, namespace=namespace, data_converter=DATA_CONVERTER, runtime=quiet_runtime()),
            CONNECT_TIMEOUT_SECONDS)
        await asyncio.wait_for(client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)), CONNECT_TIMEOUT_SECONDS)
    except TimeoutError as error:
        raise StartupError(f"Temporal at {address} did not answer within {CONNECT_TIMEOUT_SECONDS:g} s. {hint}") \
            from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise StartupError(f"Temporal at {address} has no namespace '{namespace}': create it or set "
                               "PLAYBOOK_TEMPORAL_NAMESPACE.") from error
        raise StartupError(f"Temporal at {address} refused the connection ({error.status.name}: {error.message}). "
                           f"{hint}") from error
    except (RuntimeError, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise StartupError(f"cannot reach Temporal at {address}: {reason}. {hint}") from error
    return client


async def serve(settings: Settings, store: Store, bundle: ir.Bundle, host: str, port: int) -> None:
    import uvicorn

    from server.app import create_app, server_config

    client = await connect_temporal(settings)
    try:
        clock = await checked_clock(settings, client)
    except ClockUnavailable as error:
        raise StartupError(str(error)) from error
    app = create_app(settings, store, bundle, process_starter(client, settings, store), clock=clock)
    log.info("serving %d playbooks on http://%s:%d (Temporal %s, namespace %s, task queue %s; database %s); "
             "API docs at /docs", len(bundle.playbooks), host, port, settings.temporal_address,
             settings.temporal_namespace, settings.task_queue, masked(settings.store_url))
    server = uvicorn.Server(server_config(app, settings, host=host, port=port, log_level="info", lifespan="on"))
    await server.serve()


def _settings() -> Settings | None:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        print(f"playbook api: the configuration is not valid: {problems}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    settings = _settings()
    if settings is None:
        return 2
    if settings.api_token is not None and not settings.api_token.get_secret_value().strip():
        print("playbook api: PLAYBOOK_API_TOKEN is set but empty: the API and the dashboard would accept anyone. "
              "Set a token (e.g. `openssl rand -hex 32`); not starting", file=sys.stderr)
        return 2
    folder = existing_folder(args.folder if args.folder is not None else str(settings.playbooks))
    compilation = compile_playbooks(folder)
    if not compilation.ok or compilation.bundle is None:
        print(check_report(compilation), file=sys.stderr)
        print("playbook api: the playbooks do not check; not starting", file=sys.stderr)
        return 1
    report(compilation)  # the warnings
    host = args.host or settings.api_host
    port = args.port if args.port is not None else settings.api_port
    try:
        store = open_store(settings.store_url)
    except StartupError as error:
        print(f"playbook api: {error}", file=sys.stderr)
        return 1
    try:
        asyncio.run(serve(settings, store, compilation.bundle, host, port))
    except StartupError as error:
        print(f"playbook api: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "api",
        help="serve the HTTP API (events in; accounts, tasks and the action log out)",
        description="Serve the HTTP API with uvicorn against the configured Temporal and database. "
                    "Refuses to start when the database schema is not current or Temporal is unreachable.",
    )
    parser.add_argument("folder", nargs="?", default=None, metavar="DIR",
                        help="the folder of playbooks (default: the `playbooks` setting)")
    parser.add_argument("--host", help="the address to listen on (default: the `api_host` setting)")
    parser.add_argument("--port", type=int, help="the port to listen on (default: the `api_port` setting)")
    parser.set_defaults(handler=run)
