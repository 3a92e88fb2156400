"""A journey's state and its dealings with the store: signals, snapshots, decisions, bookkeeping.

The base of the journey interpreter (`journey_time.py` adds waiting, `journey_steps.py` the
statements). Everything here runs inside the journey workflow: the store is read only through
the `journey.snapshot` local activity and written only through activities, each with an
idempotency key `<workflow id>/<run id>/<path>`.

Bookkeeping is batched: decisions are kept until the journey next waits or acts, then logged
by one local activity together with its agenda (`journey.note`); entering returns the first
snapshot (`journey.enter`); ending logs the last decisions (`journey.end`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

import dsl.ir as ir
from engine import evaluator
from engine.records import Decision, JourneySignal, Snapshot
from engine.time_rules import ON_TIME_SLACK
from engine.workflows.messages import (
    ActivityOptions,
    EndParams,
    EnterParams,
    EnterResult,
    FailedParams,
    JourneyInput,
    NoteParams,
    SnapshotParams,
)

__all__ = ["DEFAULT_OPTIONS", "BOOKKEEPING_OPTIONS", "Ended", "HeldEmail", "JourneyState", "effect_activities"]

# How an activity runs when the worker's registry says nothing about it.
DEFAULT_OPTIONS = ActivityOptions(timeout_seconds=120.0, max_attempts=20)
# The journey's own bookkeeping (local activities: short, idempotent by key).
BOOKKEEPING_OPTIONS = ActivityOptions(timeout_seconds=30.0, max_attempts=20)
BOOKKEEPING = ("journey.snapshot", "journey.note", "journey.end")


@dataclass
class HeldEmail:
    """An email waiting for quiet hours to end (or behind one that does)."""

    st: ir.SendEmail
    path: str
    until: datetime  # the moment it may go
    timezone: str


class Ended(Exception):
    """The journey ends early: an exit or a goal, at its own time."""

    def __init__(self, status: str, reason: str, at: datetime) -> None:
        super().__init__(reason)
        self.status, self.reason, self.at = status, reason, at


def effect_activities(playbook: ir.Playbook) -> list[str]:
    """The activities a playbook's statements may call, in a stable order."""
    names: set[str] = set()

    def walk(body: tuple[ir.Statement, ...]) -> None:
        for st in body:
            if isinstance(st, ir.If):
                walk(st.then)
                walk(st.otherwise)
            elif isinstance(st, ir.Split):
                for arm in st.arms:
                    walk(arm.body)
            elif isinstance(st, ir.SendEmail | ir.SendInApp):
                names.add("message.send")
            elif isinstance(st, ir.CreateTask):
                names.add("task.create")
            elif isinstance(st, ir.SetField):
                names.add("field.set")
            elif isinstance(st, ir.UpdateScore):
                names.add("score.update")
            elif isinstance(st, ir.Do):
                names.add(st.activity)

    for step in playbook.steps:
        walk(step.body)
    return sorted(names)


# A send the operator holds (a pause, the send stop) or the relay's rate limit defers: the journey
# waits for it durably, as long as it takes, looking again at the moment the activity names, at
# least a minute and at most an hour apart; never counted as a failed attempt.
HELD_ERRORS = ("SendHeld", "SendDeferred")
HELD_FIRST_WAIT, HELD_LONGEST_WAIT = timedelta(minutes=1), timedelta(hours=1)
_RETRY_AT = re.compile(r"try again from (\S+)$")


def _retry(options: ActivityOptions) -> RetryPolicy:
    return RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                       maximum_attempts=options.max_attempts, non_retryable_error_types=list(HELD_ERRORS))


def _held_until(error: ActivityError) -> datetime | bool | None:
    """When a held or deferred send is worth trying again (None: not said); False: not held."""
    cause = error.cause
    if not isinstance(cause, ApplicationError) or cause.type not in HELD_ERRORS:
        return False
    found = _RETRY_AT.search(cause.message or "")
    try:
        return datetime.fromisoformat(found.group(1)) if found else None
    except ValueError:
        return None


class JourneyState:
    def __init__(self, inp: JourneyInput) -> None:
        self._inp = inp
        self._horizon = timedelta(seconds=inp.horizon_seconds)
        self._ending: Ended | None = None
        self._held_emails: list[HeldEmail] = []  # emails waiting for quiet hours to end, in order
        self._events: list[JourneySignal] = []  # events received, for `wait until event`
        self._done_tasks: set[str] = set()
        self._changed_at: datetime | None = None  # account fields changed since last look
        self._tasks: list[str] = []
        self._decisions: list[Decision] = []
        self._decision_keys: list[str] = []
        self._due = 0  # decisions to log before the journey next waits (those of finished steps)
        self._counter = 0  # numbers the decision keys: the decisions since the last flush
        self._snapshot_cache: Snapshot | None = None
        # The plan a simulation's timeline holds for this journey (the times it may next act at):
        # the starter notes the entry; `_later` are the times of the entry-anchored steps to come.
        self._plan: list[datetime] = [inp.entry_at]
        self._later: list[datetime] = []
        self._last_change: datetime | None = None
        self._offset = timedelta(seconds=inp.clock_offset_seconds)
        self._options: dict[str, ActivityOptions] = {}
        self._exit_events = {rule.event for rule in inp.playbook.exits if rule.event}
        self._goal_events = set(inp.playbook.goal_events)
        self._wid = self._run = ""

    # ------------------------------------------------------------------ signals

    def notify(self, signal: JourneySignal) -> None:
        if self._ending is not None:
            return
        if signal.event in self._exit_events:
            self._ending = Ended("exited", f"event {signal.event}", signal.at)
        elif signal.event in self._goal_events:
            self._ending = Ended("goal_reached", f"event {signal.event}", signal.at)
        elif signal.event:
            self._events.append(signal)
        if signal.task_done:
            self._done_tasks.add(signal.task_done)
        if signal.fields_changed:
            self._changed_at = max(self._changed_at or signal.at, signal.at)

    def _now(self) -> datetime:
        """The journey's logical time: the server's clock minus the simulation's offset."""
        return workflow.now() - self._offset

    def _ended_by(self, moment: datetime) -> bool:
        """An exit or goal happened at or before `moment` (event time: a later one waits its turn)."""
        return self._ending is not None and self._ending.at <= moment

    def _raise_if_ended(self, moment: datetime) -> None:
        if self._ending is not None and self._ending.at <= moment:
            raise self._ending

    # ------------------------------------------------------------------ entering and ending

    async def _enter(self) -> None:
        """Record the entry and read the account at it (a goal already reached ends the journey)."""
        info = workflow.info()
        self._wid, self._run = info.workflow_id, info.run_id
        inp = self._inp
        names = [*effect_activities(inp.playbook), *BOOKKEEPING, "journey.failed"]
        entered = await workflow.execute_local_activity(
            "journey.enter", EnterParams(**self._base("enter", inp.entry_at), run_id=self._run, version=inp.version,
                                         reason=inp.reason, activities=names),
            result_type=EnterResult, start_to_close_timeout=timedelta(seconds=BOOKKEEPING_OPTIONS.timeout_seconds),
            retry_policy=_retry(BOOKKEEPING_OPTIONS))
        self._options = dict(entered.options)
        self._took(entered.snapshot)

    async def _end(self, status: str, reason: str, at: datetime) -> None:
        """Log the last decisions and the end; a simulation's timeline forgets the journey."""
        decisions, keys = self._take_decisions()
        self._counter = 0
        await self._local("journey.end", EndParams(**self._base("end", at), run_id=self._run, status=status,
                                                   reason=reason, decisions=decisions, keys=keys))

    # ------------------------------------------------------------------ reads

    async def _snapshot(self, at: datetime, *, refresh: bool = False) -> Snapshot:
        cached = self._snapshot_cache
        if cached is not None and cached.at == at and not refresh:
            return cached
        snap = await self._local("journey.snapshot", SnapshotParams(account=self._inp.account, at=at,
                                                                     task_ids=self._tasks), result_type=Snapshot)
        self._took(snap)
        return snap

    def _took(self, snap: Snapshot) -> None:
        self._snapshot_cache = snap
        self._check_conditions(snap)

    def _check_conditions(self, snap: Snapshot) -> None:
        """Exit and goal conditions hold on this snapshot: end the journey at its time."""
        pb = self._inp.playbook
        if self._ending is not None:
            return
        for rule in pb.exits:
            if rule.condition is not None and evaluator.truthy(
                    evaluator.evaluate(rule.condition, snap, entered_at=self._inp.entry_at)):
                self._ending = Ended("exited", evaluator.describe(rule.condition), snap.at)
                return
        if pb.goal is not None and evaluator.truthy(evaluator.evaluate(pb.goal, snap, entered_at=self._inp.entry_at)):
            self._ending = Ended("goal_reached", evaluator.describe(pb.goal), snap.at)

    def _task_state(self, snap: Snapshot) -> str | None:
        if not self._tasks:
            return None
        last = self._tasks[-1]
        if last in self._done_tasks:
            return "done"
        record = snap.tasks.get(last)
        return record.status if record else None

    # ------------------------------------------------------------------ decisions and bookkeeping

    def _base(self, path: str, at: datetime) -> dict[str, Any]:
        return {"account": self._inp.account, "playbook": self._inp.playbook.id, "workflow_id": self._wid,
                "key": f"{self._wid}/{self._run}/{path}", "at": at}

    def _effect(self, path: str, at: datetime) -> dict[str, Any]:
        """An effect's common params, with the decisions taken so far: the effect's activity logs
        them before it acts; with the moment it really acts when that is late."""
        decisions, keys = self._take_decisions()
        now = self._now()
        sent_at = now if now - at > ON_TIME_SLACK else None
        return {**self._base(path, at), "decisions": decisions, "decision_keys": keys, "sent_at": sent_at}

    def _decide(self, at: datetime, what: str, detail: str, path: str, reads: dict[str, Any]) -> None:
        self._decisions.append(Decision(at=at, account=self._inp.account, playbook=self._inp.playbook.id,
                                        what=what, detail=detail, reads=reads))
        self._decision_keys.append(f"{self._wid}/{self._run}/{path}/{what}/{self._counter}")
        self._counter += 1

    def _step_done(self) -> None:
        """A step has run: its decisions are logged before the journey next waits or acts."""
        self._due = len(self._decisions)
        self._counter = 0

    def _take_decisions(self, count: int | None = None) -> tuple[list[Decision], list[str]]:
        count = len(self._decisions) if count is None else count
        decisions, keys = self._decisions[:count], self._decision_keys[:count]
        del self._decisions[:count], self._decision_keys[:count]
        self._due = 0
        return decisions, keys

    async def _note(self, agenda: datetime | None = None, *, flush: bool = False) -> None:
        """Log decisions and report the agenda in one local activity (none when neither has
        anything to say): every decision with `flush`, else those of finished steps.

        `agenda` is when the journey next acts (it is about to wait until then). A simulation's
        timeline holds a *plan* for the journey: that moment and the moments of the entry-anchored
        steps after it. The plan is reported only when the journey is about to wait for a moment
        it does not list first; waiting as planned needs no report.
        """
        plan: list[datetime] = []
        if agenda is not None and self._inp.report_agenda:
            now = self._now()
            held = [email.until for email in self._held_emails]
            first = min([agenda, *held])  # a held email acts before the journey's next step
            if [t for t in self._plan if t > now][:1] != [first]:
                plan = sorted({first, agenda, *(t for t in [*self._later, *held] if t > first)})
        count = len(self._decisions) if flush else self._due
        if flush:
            self._counter = 0
        if not plan and not count:
            return
        decisions, keys = self._take_decisions(count)
        if plan:
            self._plan = plan
        await self._local("journey.note", NoteParams(workflow_id=self._wid, account=self._inp.account,
                                                     decisions=decisions, keys=keys, plan=plan))

    async def _flush(self) -> None:
        """Log every decision taken so far (before an effect, so the log keeps their order)."""
        await self._note(flush=True)

    async def _local(self, name: str, params: Any, result_type: type | None = None) -> Any:
        """The journey's own bookkeeping in the store: short, idempotent by key, no server round trip."""
        options = self._options.get(name, BOOKKEEPING_OPTIONS)
        return await workflow.execute_local_activity(
            name, params, result_type=result_type, start_to_close_timeout=timedelta(seconds=options.timeout_seconds),
            retry_policy=_retry(options))

    # ------------------------------------------------------------------ effects

    async def _call(self, name: str, params: Any) -> Any:
        """An effect, with the timeout and attempts its registry entry declares; a send the brakes
        hold waits for them to lift (`HELD_ERRORS`)."""
        wait = HELD_FIRST_WAIT
        while True:
            try:
                return await self._activity(name, params)
            except ActivityError as error:
                held = _held_until(error)
                if held is False:
                    return await self._failed(name, params, error)
                # a deferral names the moment a slot frees up; a hold is looked at again less and less often
                deferred = isinstance(error.cause, ApplicationError) and error.cause.type == "SendDeferred"
                delay = held - workflow.now() if isinstance(held, datetime) else wait
                if not deferred:
                    delay = max(delay, wait)
                    wait = min(wait * 2, HELD_LONGEST_WAIT)
                await workflow.sleep(min(max(delay, timedelta(seconds=1)), HELD_LONGEST_WAIT))

    async def _failed(self, name: str, params: Any, error: ActivityError) -> None:
        """One failed effect is recorded (kind `failed`) and the journey goes on with its next step."""
        if name.startswith("journey."):
            raise error
        cause = error.cause or error
        key = str(params.key)
        await self._activity("journey.failed", FailedParams(
            account=self._inp.account, playbook=self._inp.playbook.id, workflow_id=self._wid,
            key=f"{key}/failed", at=params.at, step=key.removeprefix(f"{self._wid}/{self._run}/"),
            error=str(cause), decisions=params.decisions, decision_keys=params.decision_keys))

    async def _activity(self, name: str, params: Any) -> Any:
        options = self._options.get(name, DEFAULT_OPTIONS)
        return await workflow.execute_activity(
            name, params, start_to_close_timeout=timedelta(seconds=options.timeout_seconds),
            retry_policy=_retry(options))
