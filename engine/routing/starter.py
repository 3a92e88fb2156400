"""Carry out the router's intents on Temporal: start journeys, deliver signals to running ones.

One journey per (playbook, account): the workflow id is `journey/<playbook>/<account>` and a
start that finds one running fails on Temporal's side (`WorkflowAlreadyStartedError`), so two
triggers at the same moment, from two API calls or two workers, start one journey. That refusal
is logged as a decision. `reentry: never` also maps to Temporal's id reuse policy.

A start drained from the routing intents carries its intent (`StartJourney.origin`) in the journey's
input (`JourneyInput.origin`: no extra payload on the way); `started_by` tells whether the latest
journey under that id was started by that intent, so that a start repeated after a crash (carried
out, not marked) is skipped rather than starting a second journey when the first has ended and the
playbook allows re-entry.

A start whose playbook is no longer loaded (removed or renamed in the bundle between its routing
and its carrying out) starts nothing; a signal for such a playbook is still told to its journey
(a running journey keeps the version it entered with). Either leaves a decision in the account's
log (`playbook_not_loaded`) and counts in `not_loaded`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from dsl import ir
from engine import decision_text
from engine.records import ActionRecord, Decision, Intent, JourneySignal, StartJourney
from engine.semantics.time_rules import DEFAULT_HORIZON
from engine.store import Store
from engine.workflows.payloads import SIGNAL_NAME, WORKFLOW_NAME, JourneyInput, journey_id
from engine.workflows.scheduler import SCHEDULER_ID

__all__ = ["Agenda", "JourneyStarter"]

log = logging.getLogger(__name__)


class Agenda:
    """When each running journey of a simulation may next act, by account.

    Each journey has a *plan*: the moments it may act at, in order. The starter notes a journey's
    entry when it starts it; the journey reports a new plan whenever it is about to wait for a
    moment its plan does not list next (`journey.note`), and is forgotten when it ends
    (`journey.end`). Between the moments of its plan a journey acts only when an event is routed
    to it, so a simulation's timeline may take an account's events ahead of the clock up to its
    journeys' next planned moments.
    """

    def __init__(self) -> None:
        self._by_account: dict[str, dict[str, list[datetime]]] = {}
        self._accounts: dict[str, str] = {}  # workflow id -> account

    def note(self, workflow_id: str, account: str, plan: list[datetime]) -> None:
        self._accounts[workflow_id] = account
        self._by_account.setdefault(account, {})[workflow_id] = sorted(plan)

    def drop(self, workflow_id: str) -> None:
        account = self._accounts.pop(workflow_id, None)
        if account is None:
            return
        journeys = self._by_account.get(account, {})
        journeys.pop(workflow_id, None)
        if not journeys:
            self._by_account.pop(account, None)

    def plan(self, workflow_id: str) -> list[datetime] | None:
        account = self._accounts.get(workflow_id)
        return None if account is None else self._by_account[account].get(workflow_id)

    def horizon(self, account: str, now: datetime) -> datetime | None:
        """The earliest moment at or after `now` a running journey of the account may act at (the
        last moment of a plan all past counts: that journey is acting now); None when none runs."""
        journeys = self._by_account.get(account)
        if not journeys:
            return None
        return min(next((t for t in plan if t >= now), plan[-1]) for plan in journeys.values())

    def __len__(self) -> int:
        return len(self._accounts)


class JourneyStarter:
    def __init__(self, client: Client, task_queue: str, store: Store, *, agenda: bool = False,
                 clock_offset_seconds: float = 0.0, horizon: timedelta = DEFAULT_HORIZON) -> None:
        self.client = client
        # The engine's clock against the Temporal server's: server time minus engine time (a
        # simulation, or processes run on a clock of their own; 0 on wall time).
        self.clock_offset_seconds = clock_offset_seconds
        self.horizon = horizon
        self.task_queue = task_queue
        self.store = store
        self.started: list[tuple[str, str]] = []  # (workflow id, run id) of every journey started here
        self.not_loaded = 0  # starts and signals carried out for a playbook no longer loaded
        # With `agenda` (simulations): when each running journey next acts, as the journeys report it.
        self.agenda: Agenda | None = Agenda() if agenda else None

    async def execute(self, bundle: ir.Bundle, intents: list[Intent],
                      clock_offset_seconds: float | None = None) -> list[StartJourney]:
        """Carry out the intents in order; the starts Temporal refused (a journey already running)."""
        refused: list[StartJourney] = []
        offset = self.clock_offset_seconds if clock_offset_seconds is None else clock_offset_seconds
        for intent in intents:
            if isinstance(intent, StartJourney):
                if not await self.start(bundle, intent, offset):
                    refused.append(intent)
            elif isinstance(intent, JourneySignal):
                if intent.playbook not in bundle.playbooks:
                    self._not_loaded(intent)
                await self.signal(intent)
        return refused

    async def start(self, bundle: ir.Bundle, intent: StartJourney, clock_offset_seconds: float) -> bool:
        playbook = bundle.playbooks.get(intent.playbook)
        if playbook is None:
            self._not_loaded(intent)
            return False
        inp = JourneyInput(
            playbook=playbook,
            version=bundle.versions.get(playbook.id, playbook.content_hash(bundle)),
            templates={name: bundle.templates[name] for name in playbook.templates if name in bundle.templates},
            policy=bundle.policy,
            account=intent.account,
            entry_at=intent.entry_at,
            reason=intent.reason,
            event=intent.event,
            data=intent.data,
            clock_offset_seconds=clock_offset_seconds,
            report_agenda=self.agenda is not None,
            horizon_seconds=self.horizon.total_seconds(),
            origin=intent.origin,
        )
        reuse = (WorkflowIDReusePolicy.REJECT_DUPLICATE if playbook.reentry.mode == "never"
                 else WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        workflow_id = journey_id(playbook.id, intent.account)
        # Noted before the start: the journey reports its next moment as soon as it runs. An entry
        # already there belongs to a journey still running under this id (the start then fails).
        noted = self.agenda is not None and self.agenda.plan(workflow_id) is None
        if noted and self.agenda is not None:
            self.agenda.note(workflow_id, intent.account, [intent.entry_at])
        try:
            handle = await self.client.start_workflow(
                WORKFLOW_NAME, inp, id=workflow_id, task_queue=self.task_queue,
                id_reuse_policy=reuse, id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
        except WorkflowAlreadyStartedError:
            if noted and self.agenda is not None:
                self.agenda.drop(workflow_id)
            decision = decision_text.decided(Decision(
                at=intent.entry_at, account=intent.account, playbook=playbook.id, what="already_active",
                outcome="running"), trigger=intent.reason)
            self.store.log_action(ActionRecord(
                at=intent.entry_at, account=intent.account, playbook=playbook.id, kind="decided",
                data=decision.logged(),
                key=f"{workflow_id}/already_active/{intent.entry_at.isoformat()}/{intent.reason}"))
            return False
        if not noted and self.agenda is not None:
            self.agenda.note(workflow_id, intent.account, [intent.entry_at])
        self.started.append((workflow_id, handle.result_run_id or ""))
        return True

    def _not_loaded(self, intent: Intent) -> None:
        """Leave a trace of an intent for a playbook no longer loaded, and count it."""
        self.not_loaded += 1
        if isinstance(intent, StartJourney):
            at, outcome, origin = intent.entry_at, "not_started", f"{intent.entry_at.isoformat()}/{intent.reason}"
        else:
            at, outcome, origin = intent.at, "signalled", f"{intent.at.isoformat()}/{intent.change}/{intent.position}"
        log.warning("%s of journey %s/%s: playbook %s is no longer loaded", "start" if outcome == "not_started"
                    else "signal", intent.playbook, intent.account, intent.playbook)
        decision = decision_text.decided(Decision(
            at=at, account=intent.account, playbook=intent.playbook, what="playbook_not_loaded", outcome=outcome,
            subject=intent.reason if isinstance(intent, StartJourney) else (intent.event or "a signal")))
        self.store.log_action(ActionRecord(
            at=at, account=intent.account, playbook=intent.playbook, kind="decided", data=decision.logged(),
            key=f"{journey_id(intent.playbook, intent.account)}/not_loaded/{outcome}/{origin}"))

    async def started_by(self, intent: StartJourney) -> bool:
        """Whether the latest journey under the intent's workflow id was started by this very intent
        (its `origin` in the journey's input): a start carried out before a crash, not marked."""
        if intent.origin is None:
            return False
        handle: WorkflowHandle[object, object] = self.client.get_workflow_handle(
            journey_id(intent.playbook, intent.account))
        try:
            async for event in handle.fetch_history_events(page_size=1):
                payloads = event.workflow_execution_started_event_attributes.input.payloads
                return bool(payloads) and json.loads(payloads[0].data).get("origin") == intent.origin
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
        return False

    async def wake_scheduler(self) -> None:
        """Tell the scheduler of time triggers to look again now (a date or a time zone changed)."""
        handle: WorkflowHandle[object, object] = self.client.get_workflow_handle(SCHEDULER_ID)
        try:
            await handle.signal("wake")
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise

    async def signal(self, intent: JourneySignal) -> None:
        handle: WorkflowHandle[object, object] = self.client.get_workflow_handle(
            journey_id(intent.playbook, intent.account))
        try:
            await handle.signal(SIGNAL_NAME, intent)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            log.debug("journey %s ended before the signal", handle.id)  # the log record carries the time
