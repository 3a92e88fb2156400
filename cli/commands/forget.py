"""`playbook forget --account ID` / `playbook forget --email ADDRESS`: erase a person's data.

With `--account`, the account's journeys are ended and deleted in Temporal first (so nothing
writes to the account again), then its data leaves the store (`engine/store/erasure.py` says
what goes and what stays). With `--email`, the address leaves the messages, the action log and
the suppression list (kept there as a hash, so it is still never written to). Either way a
`forgotten` line records that it happened, under a hash, with the counts of what was removed.

`--store-only` skips Temporal (when it cannot be reached: end the journeys yourself).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from cli.commands import UsageError
from cli.commands.api_client import EngineError, failing_cleanly, load_settings
from engine.settings import Settings
from engine.store import Store, StoreUnavailable
from engine.workflows.payloads import journey_id

__all__ = ["end_journeys", "register"]


async def end_journeys(client: Client, namespace: str, workflow_ids: list[str]) -> int:
    """Terminate and delete each workflow that exists; how many there were."""
    ended = 0
    for workflow_id in workflow_ids:
        try:
            await client.get_workflow_handle(workflow_id).terminate(reason="playbook forget: the account is erased")
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
        try:
            await client.workflow_service.delete_workflow_execution(DeleteWorkflowExecutionRequest(
                namespace=namespace, workflow_execution=WorkflowExecution(workflow_id=workflow_id)))
            ended += 1
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
    return ended


async def _temporal(settings: Settings, workflow_ids: list[str]) -> int:
    from workers.runtime import DATA_CONVERTER

    try:
        client = await asyncio.wait_for(Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                                       data_converter=DATA_CONVERTER), timeout=10)
        return await end_journeys(client, settings.temporal_namespace, workflow_ids)
    except (RPCError, RuntimeError, OSError, TimeoutError) as error:
        raise EngineError(f"cannot end the journeys in Temporal at {settings.temporal_address}: {error}. "
                          "Nothing was erased; start Temporal, or give --store-only and end them yourself") from None


def _run(args: argparse.Namespace) -> int:
    if (args.account is None) == (args.email is None):
        raise UsageError("give --account ID or --email ADDRESS")
    if args.email is not None and "@" not in args.email:
        raise UsageError(f"--email: {args.email!r} is not an email address")
    settings = load_settings()
    try:
        store = Store.open(settings.store_url, migrate=False)
    except StoreUnavailable as error:
        raise EngineError(str(error)) from None
    try:
        now = datetime.now(UTC)
        if args.account is not None:
            ended = 0
            if not args.store_only:
                ids = [journey_id(playbook, args.account) for playbook in store.journey_playbooks(args.account)]
                ended = asyncio.run(_temporal(settings, ids))
            removed = store.forget_account(args.account, now)
            print(f"forgot account {args.account}: {ended} journeys ended in Temporal; " + _counts(removed))
        else:
            email = str(args.email)
            removed = store.forget_email(email, now)
            print(f"forgot {args.email}: " + _counts(removed))
        return 0
    finally:
        store.close()


def _counts(removed: dict[str, int]) -> str:
    return ", ".join(f"{count} {name}" for name, count in removed.items())


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "forget", help="erase a person's data: an account, or an email address",
        description="Erase an account (its traits, events, scores, tasks, journeys and log; its messages "
                    "blanked) or an email address (from messages and the log; kept suppressed as a hash).")
    parser.add_argument("--account", metavar="ID", help="the account to erase")
    parser.add_argument("--email", metavar="ADDRESS", help="the email address to erase")
    parser.add_argument("--store-only", action="store_true", help="do not end the journeys in Temporal")
    parser.set_defaults(handler=failing_cleanly("forget", _run))
