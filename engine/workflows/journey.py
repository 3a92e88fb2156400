"""The journey workflow: one generic interpreter that runs any playbook's IR for one account.

A journey is started per (playbook, account) with the playbook's IR in its input, so it keeps the
version it entered with. It reads the clock only through Temporal, reads account data only
through the `journey.snapshot` activity, evaluates every condition as a pure function of those
snapshots, and performs every effect through an activity whose idempotency key is
`<workflow id>/<run id>/<step path>`.

Times: a journey works in *logical* time, the timeline's own clock. Every action is stamped with
the time the playbook says it happens (the entry, a step's target, a wait's deadline, the event
that ended a wait), never with the moment an activity happened to run; `clock_offset_seconds`
maps logical time to the server's clock (non-zero only in simulations).
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import dsl.ir as ir
    from engine import calendar, evaluator
    from engine.records import Decision, JourneySignal, Snapshot
    from engine.workflows.messages import (
        SIGNAL_NAME,
        WORKFLOW_NAME,
        AgendaParams,
        DecisionBatch,
        EmailParams,
        EndParams,
        EnterParams,
        FailedParams,
        JourneyInput,
        JourneyOutcome,
        PluginParams,
        ScoreParams,
        SetParams,
        SnapshotParams,
        TaskParams,
    )

__all__ = ["JourneyWorkflow"]

# A date-anchored step whose time passed more than this long before the journey reached it
# (its date moved into the past) is skipped and the skip is logged, rather than run late.
LATE_STEP_TOLERANCE = timedelta(hours=1)

ACTIVITY_TIMEOUT = timedelta(minutes=2)
LOCAL_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                    maximum_attempts=20)


class _Ended(Exception):
    def __init__(self, status: str, reason: str, at: datetime) -> None:
        super().__init__(reason)
        self.status, self.reason, self.at = status, reason, at


@workflow.defn(name=WORKFLOW_NAME)
class JourneyWorkflow:
    @workflow.init
    def __init__(self, inp: JourneyInput) -> None:
        self._inp = inp
        self._ending: _Ended | None = None
        self._events: list[JourneySignal] = []  # events received, for `wait until event`
        self._done_tasks: set[str] = set()
        self._changed_at: datetime | None = None  # account fields changed since last look
        self._tasks: list[str] = []
        self._decisions: list[Decision] = []
        self._decision_keys: list[str] = []
        self._snapshot_cache: Snapshot | None = None
        self._reported: datetime | bool | None = False  # False: nothing reported yet
        self._last_change: datetime | None = None
        self._offset = timedelta(seconds=inp.clock_offset_seconds)
        exits = inp.playbook.exits
        self._exit_events = {rule.event for rule in exits if rule.event}
        self._goal_events = set(inp.playbook.goal_events)

    # ------------------------------------------------------------------ signals

    @workflow.signal(name=SIGNAL_NAME)
    def notify(self, signal: JourneySignal) -> None:
        if self._ending is not None:
            return
        if signal.event in self._exit_events:
            self._ending = _Ended("exited", f"event {signal.event}", signal.at)
        elif signal.event in self._goal_events:
            self._ending = _Ended("goal_reached", f"event {signal.event}", signal.at)
        elif signal.event:
            self._events.append(signal)
        if signal.task_done:
            self._done_tasks.add(signal.task_done)
        if signal.fields_changed:
            self._changed_at = max(self._changed_at or signal.at, signal.at)

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, inp: JourneyInput) -> JourneyOutcome:
        info = workflow.info()
        self._wid, self._run = info.workflow_id, info.run_id
        await self._local("journey.enter", EnterParams(
            **self._base("enter", inp.entry_at), run_id=self._run, version=inp.version, reason=inp.reason))
        status, reason, end_at = "completed", "", inp.entry_at
        cursor = inp.entry_at
        try:
            await self._snapshot(cursor)  # a goal already reached at entry ends the journey at once
            for step in inp.playbook.steps:
                reached = await self._reach(step, cursor)
                if reached is None:
                    continue
                cursor = await self._block(step.body, step.name, reached)
                await self._flush()
            end_at = cursor
        except _Ended as ended:
            status, reason, end_at = ended.status, ended.reason, ended.at
        await self._flush()
        await self._report_agenda(None)
        await self._local("journey.end", EndParams(
            **self._base("end", end_at), run_id=self._run, status=status, reason=reason))
        return JourneyOutcome(status=status, reason=reason, at=end_at)

    # ------------------------------------------------------------------ time

    def _now(self) -> datetime:
        return workflow.now() - self._offset

    async def _sleep_until(self, target: datetime, *, wake_on_change: bool = False) -> bool:
        """Sleep until logical `target`. False if woken early by a field change (when asked)."""
        while True:
            self._raise_if_ended()
            if self._changed_at is not None:
                changed_at, self._changed_at = self._changed_at, None
                self._last_change = max(self._last_change or changed_at, changed_at)
                self._snapshot_cache = None
                await self._snapshot(changed_at)  # exit and goal conditions, at the change's own time
                if wake_on_change:
                    return False
            remaining = (target - self._now()).total_seconds()
            if remaining <= 0:
                return True
            await self._report_agenda(target)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._ending is not None or self._changed_at is not None,
                    timeout=timedelta(seconds=remaining),
                )

    def _raise_if_ended(self) -> None:
        if self._ending is not None:
            raise self._ending

    async def _reach(self, step: ir.Step, cursor: datetime) -> datetime | None:
        """Wait for a step's time; None when the step is skipped (its date is missing or past)."""
        if step.anchor == "entry":
            entry_target = self._inp.entry_at + timedelta(seconds=step.offset.seconds())
            await self._sleep_until(entry_target)
            return max(entry_target, cursor)
        while True:
            # The fields as they are now, or as of the latest change heard (which a simulation's
            # timeline may deliver ahead of the server's clock).
            snap = await self._snapshot(max(cursor, self._now(), self._last_change or cursor))
            value = snap.fields.get(step.anchor)
            target = calendar.date_instant(str(value), step.offset_days, step.at, snap.timezone) if value else None
            if target is None:
                self._decide(cursor, "step_skipped", f"{step.name}: {step.anchor} is missing", step.name,
                             {step.anchor: value})
                return None
            if target < cursor - LATE_STEP_TOLERANCE:
                self._decide(cursor, "step_skipped", f"{step.name}: its time {target.isoformat()} had passed",
                             step.name, {step.anchor: value})
                return None
            if await self._sleep_until(target, wake_on_change=True):
                return max(target, cursor)

    # ------------------------------------------------------------------ statements

    async def _block(self, body: tuple[ir.Statement, ...], path: str, cursor: datetime) -> datetime:
        for index, statement in enumerate(body):
            self._raise_if_ended()
            cursor = await self._statement(statement, f"{path}/{index}", cursor)
        return cursor

    async def _statement(self, st: ir.Statement, path: str, cursor: datetime) -> datetime:
        pb = self._inp.playbook
        if isinstance(st, ir.If):
            snap = await self._snapshot(cursor)
            value, reads = evaluator.evaluate_with_reads(st.condition, snap, event_data=self._inp.data,
                                                         task_state=self._task_state(snap))
            taken = evaluator.truthy(value)
            shown = evaluator.describe(st.condition.arg if st.negated and isinstance(st.condition, ir.Not)
                                       else st.condition)
            word = "unless" if st.negated else "if"
            outcome = "unknown" if value is evaluator.UNKNOWN else ("true" if taken else "false")
            self._decide(cursor, "branch", f"{word} {shown}: {outcome if not st.negated else _flip(outcome)}"
                         f" ({'ran' if taken else 'skipped'})", path, reads)
            if taken:
                return await self._block(st.then, f"{path}/then", cursor)
            return await self._block(st.otherwise, f"{path}/else", cursor)
        if isinstance(st, ir.Split):
            bucket = _bucket(pb.id, self._inp.account)
            edge = 0.0
            for index, arm in enumerate(st.arms):
                edge += arm.percent
                if bucket < edge or index == len(st.arms) - 1:
                    self._decide(cursor, "split", f"cohort {index + 1} of {len(st.arms)} ({arm.percent:g}%)",
                                 path, {"bucket": bucket})
                    return await self._block(arm.body, f"{path}/arm{index + 1}", cursor)
            return cursor
        if isinstance(st, ir.Wait):
            snap = await self._snapshot(cursor)
            target = calendar.add_duration(cursor, st.duration, snap.timezone)
            await self._sleep_until(target)
            return target
        if isinstance(st, ir.WaitUntil):
            return await self._wait_until(st, path, cursor)
        await self._flush()
        if isinstance(st, ir.SendEmail | ir.SendInApp):
            return await self._send(st, path, cursor)
        if isinstance(st, ir.CreateTask):
            snap = await self._snapshot(cursor)
            due = calendar.add_duration(cursor, st.due, snap.timezone) if st.due else None
            task_id = await self._call("task.create", TaskParams(
                **self._base(path, cursor), title=st.title, owner=list(st.owner), due=due,
                priority=st.priority, playbook_title=pb.title))
            if isinstance(task_id, str):
                self._tasks.append(task_id)
            self._snapshot_cache = None
            return cursor
        if isinstance(st, ir.SetField):
            snap = await self._snapshot(cursor)
            value, reads = evaluator.evaluate_with_reads(st.value, snap, event_data=self._inp.data)
            if value is evaluator.UNKNOWN:
                self._decide(cursor, "set_skipped", f"set {st.field}: the value is unknown", path, reads)
                return cursor
            await self._call("field.set", SetParams(**self._base(path, cursor), field=st.field, value=value,
                                                    clock_offset_seconds=self._inp.clock_offset_seconds))
            self._snapshot_cache = None
            return cursor
        if isinstance(st, ir.UpdateScore):
            await self._call("score.update", ScoreParams(**self._base(path, cursor), score=st.score,
                                                         clock_offset_seconds=self._inp.clock_offset_seconds))
            self._snapshot_cache = None
            return cursor
        if isinstance(st, ir.Do):
            snap = await self._snapshot(cursor)
            params: dict[str, Any] = {}
            for name, param in st.params.items():
                if param.kind == "field":
                    params[name] = _field(snap.fields, param.path)
                else:
                    params[name] = param.value
            await self._call(st.activity, PluginParams(**self._base(path, cursor), activity=st.activity,
                                                       params=params))
            return cursor
        raise TypeError(f"unknown statement {st!r}")  # the IR's union is closed: unreachable

    async def _send(self, st: ir.SendEmail | ir.SendInApp, path: str, cursor: datetime) -> datetime:
        policy = self._inp.policy
        template = self._inp.templates[st.template]
        channel = "email" if isinstance(st, ir.SendEmail) else "in_app"
        if channel == "email" and policy.quiet_hours is not None:
            snap = await self._snapshot(cursor)
            until = calendar.quiet_until(cursor, snap.timezone, policy.quiet_hours)
            if until is not None:
                self._decide(cursor, "quiet_hours",
                             f"send email {st.template}: quiet hours in {snap.timezone}, waits until "
                             f"{until.isoformat()}", path, {"timezone": snap.timezone})
                await self._flush()
                await self._sleep_until(until)
                cursor = until
        cap = next((c for c in policy.caps if c.channel == channel), None)
        await self._call("message.send", EmailParams(
            **self._base(path, cursor), channel=channel, template=template,
            to=list(st.to) if isinstance(st, ir.SendEmail) else [],
            cap_count=cap.count if cap else None, cap_seconds=cap.per.seconds() if cap else None,
            event=self._inp.event, data=self._inp.data, playbook_title=self._inp.playbook.title))
        return cursor

    async def _wait_until(self, st: ir.WaitUntil, path: str, cursor: datetime) -> datetime:
        snap = await self._snapshot(cursor)
        deadline = calendar.add_duration(cursor, st.timeout, snap.timezone)
        task = self._tasks[-1] if self._tasks else None
        start = cursor

        def matched() -> datetime | None:
            for signal in self._events:
                if signal.event in st.events and signal.at >= start:
                    return signal.at
            return None

        if st.task_done and task is not None and self._task_state(snap) == "done":
            return cursor
        while True:
            self._raise_if_ended()
            if st.task_done and task is not None and task in self._done_tasks:
                fresh = await self._snapshot(max(start, min(self._now(), deadline)), refresh=True)
                done = fresh.tasks.get(task)
                at = done.completed_at if done and done.completed_at else max(start, min(self._now(), deadline))
                self._decide(at, "wait_ended", "task done", path, {"task": task})
                return at
            hit = matched()
            if hit is not None:
                self._decide(hit, "wait_ended", "event arrived", path, {})
                return hit
            remaining = (deadline - self._now()).total_seconds()
            if remaining > 0:
                await self._report_agenda(deadline)
            if remaining <= 0:
                self._decide(deadline, "wait_ended", f"no {' or '.join(st.events) or 'task done'} within "
                             f"{st.timeout.amount} {st.timeout.unit}", path, {})
                return deadline
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._ending is not None or matched() is not None
                    or (task is not None and task in self._done_tasks),
                    timeout=timedelta(seconds=remaining),
                )

    # ------------------------------------------------------------------ reads

    async def _snapshot(self, at: datetime, *, refresh: bool = False) -> Snapshot:
        cached = self._snapshot_cache
        if cached is not None and cached.at == at and not refresh:
            return cached
        snap = await workflow.execute_local_activity(
            "journey.snapshot", SnapshotParams(account=self._inp.account, at=at, task_ids=self._tasks),
            result_type=Snapshot, start_to_close_timeout=LOCAL_TIMEOUT, retry_policy=RETRY)
        self._snapshot_cache = snap
        self._check_conditions(snap)
        return snap

    def _check_conditions(self, snap: Snapshot) -> None:
        """Exit and goal conditions hold on this snapshot: end the journey at its time."""
        pb = self._inp.playbook
        if self._ending is not None:
            return
        for rule in pb.exits:
            if rule.condition is not None and evaluator.truthy(evaluator.evaluate(rule.condition, snap)):
                self._ending = _Ended("exited", evaluator.describe(rule.condition), snap.at)
                return
        if pb.goal is not None and evaluator.truthy(evaluator.evaluate(pb.goal, snap)):
            self._ending = _Ended("goal_reached", evaluator.describe(pb.goal), snap.at)

    def _task_state(self, snap: Snapshot) -> str | None:
        if not self._tasks:
            return None
        last = self._tasks[-1]
        if last in self._done_tasks:
            return "done"
        record = snap.tasks.get(last)
        return record.status if record else None

    # ------------------------------------------------------------------ effects

    def _base(self, path: str, at: datetime) -> dict[str, Any]:
        return {"account": self._inp.account, "playbook": self._inp.playbook.id, "workflow_id": self._wid,
                "key": f"{self._wid}/{self._run}/{path}", "at": at}

    def _decide(self, at: datetime, what: str, detail: str, path: str, reads: dict[str, Any]) -> None:
        self._decisions.append(Decision(at=at, account=self._inp.account, playbook=self._inp.playbook.id,
                                        what=what, detail=detail, reads=reads))
        self._decision_keys.append(f"{self._wid}/{self._run}/{path}/{what}/{len(self._decision_keys)}")

    async def _flush(self) -> None:
        if not self._decisions:
            return
        batch = DecisionBatch(decisions=self._decisions, keys=self._decision_keys)
        self._decisions, self._decision_keys = [], []
        await self._local("journey.decisions", batch)

    async def _local(self, name: str, params: Any) -> Any:
        """The journey's own bookkeeping in the store: short, idempotent by key, no server round trip."""
        return await workflow.execute_local_activity(name, params, start_to_close_timeout=LOCAL_TIMEOUT,
                                                     retry_policy=RETRY)

    async def _report_agenda(self, target: datetime | None) -> None:
        """Tell a simulation's timeline when this journey next acts (None: it has ended).

        The timeline then knows how far it may take events in one go without overtaking a journey.
        Only simulations ask for it (`report_agenda`); a running engine does not.
        """
        if not self._inp.report_agenda or target == self._reported:
            return
        self._reported = target
        await self._local("journey.agenda", AgendaParams(workflow_id=self._wid, at=target))

    async def _call(self, name: str, params: Any) -> Any:
        try:
            return await workflow.execute_activity(name, params, start_to_close_timeout=ACTIVITY_TIMEOUT,
                                                   retry_policy=RETRY)
        except ActivityError as error:
            if name.startswith("journey."):
                raise
            # One failed effect is recorded (kind `failed`) and the journey goes on with its next step.
            cause = error.cause or error
            key = str(params.key)
            await workflow.execute_activity(
                "journey.failed", FailedParams(
                    account=self._inp.account, playbook=self._inp.playbook.id, workflow_id=self._wid,
                    key=f"{key}/failed", at=params.at, step=key.removeprefix(f"{self._wid}/{self._run}/"),
                    error=str(cause)),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
            return None


def _bucket(playbook: str, account: str) -> float:
    """A stable number in [0, 100) per (playbook, account): the A/B cohort."""
    digest = hashlib.sha256(f"{playbook}:{account}".encode()).hexdigest()
    return int(digest[:8], 16) % 10000 / 100


def _flip(outcome: str) -> str:
    return {"true": "false", "false": "true"}.get(outcome, outcome)


def _field(fields: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = fields
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
