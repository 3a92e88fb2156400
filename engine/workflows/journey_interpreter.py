"""The journey interpreter: runs a playbook's IR for one account, statement by statement.

`run` enters, reaches each step at its time (`JourneyClock`) and runs its body: `if`/`unless`
and `split` decide as pure functions of a snapshot (each decision logged, `DecisionLog`), `wait`
and `wait until` wait, and every effect (`send`, `create task`, `set`, `update score`, `do`) is
one activity (`effects.py` names it) with the step's idempotency key. An exit or goal ends the
journey at its own time, whatever it was doing.

An `if` whose condition is unknown (it reads a missing field) takes neither branch: not its body,
not its `else`; the decision says so. An email that falls in quiet hours is held (`HeldEmails`)
while the journey goes on.

The parts it is made of, each with one concern: `JourneyState` (what the journey heard and
holds), `DecisionLog`, `SimulationAgenda` (its plan for a simulation's timeline),
`JourneyCalls` (its activities), `JourneyClock` (its time) and `HeldEmails`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import dsl.ir as ir
import dsl.ir_text as ir_text
from engine.records import JourneySignal
from engine.semantics import calendar, evaluator, send_window
from engine.workflows.agenda import SimulationAgenda
from engine.workflows.decision_log import DecisionLog
from engine.workflows.effects import effect_of
from engine.workflows.escalations import Escalations
from engine.workflows.event_judge import EventJudge
from engine.workflows.held_emails import HeldEmails
from engine.workflows.in_app_runs import InAppRuns, message_params
from engine.workflows.journey_calls import JourneyCalls
from engine.workflows.journey_clock import JourneyClock
from engine.workflows.journey_state import Ended, HeldEmail, JourneyState
from engine.workflows.payloads import (
    EmailParams,
    JourneyInput,
    JourneyOutcome,
    PluginParams,
    ScoreParams,
    SetParams,
    TaskParams,
    deferred_until,
)
from engine.workflows.plans import Plans
from engine.workflows.reviews import Reviews
from engine.workflows.waits import Waits
from engine.workflows.work_items import work_item_params

__all__ = ["PRIORITY_DELAY", "JourneyInterpreter"]

# Deferred sends waiting for the same slot try in the order of their playbooks' priority.
PRIORITY_DELAY = {"high": timedelta(0), "normal": timedelta(minutes=1), "low": timedelta(minutes=2)}


class JourneyInterpreter:
    def __init__(self, inp: JourneyInput) -> None:
        self._inp = inp
        self._state = state = JourneyState(inp)
        self._log = DecisionLog(state)
        self._agenda = SimulationAgenda(inp)
        self._calls = JourneyCalls(state, self._log, self._agenda)
        self._judge = EventJudge(state, self._calls)
        self._clock = JourneyClock(state, self._calls, self._log, self._judge)
        self._held = HeldEmails(state, self._calls, self._log, self._deliver, self._judge)
        self._waits = Waits(state, self._calls, self._log, self._judge)
        self._escalations = Escalations(state, self._calls, self._judge)
        self._reviews = Reviews(state, self._calls)
        self._plans = Plans(state, self._calls, self._judge)
        self._runs = InAppRuns(state, self._calls, self._log)
        last = inp.playbook.steps[-1] if inp.playbook.steps else None
        # the journey's last statement: an effect there is its last action, the end travels with it
        self._last_path = f"{last.name}/{len(last.body) - 1}" if last is not None and last.body else None

    def notify(self, signal: JourneySignal) -> None:
        self._state.notify(signal)

    async def run(self) -> JourneyOutcome:
        inp, state = self._inp, self._state
        status, reason, end_at = "completed", "", inp.entry_at
        cursor = inp.entry_at
        try:
            await self._calls.enter()  # a goal already reached at entry ends the journey at once
            for index, step in enumerate(inp.playbook.steps):
                self._agenda.at_step(inp.playbook.steps, index, state.entry_timezone)
                reached = await self._clock.reach(step, cursor)
                if reached is None:
                    continue
                cursor = await self._block(step.body, step.name, reached)
                self._log.step_done()
            end_at = cursor
        except Ended as ended:
            status, reason, end_at = ended.status, ended.reason, ended.at
        if await self._held.finish():  # held emails go out at their moments, or stop at an exit before them
            if status == "completed" and state.held and state.ending is not None:
                status, reason, end_at = state.ending.status, state.ending.reason, state.ending.at
            elif status == "completed":
                end_at = max(end_at, self._held.last_sent_at)
        # work items with an SLA (done, escalated) and success plans (closed), or an exit first
        for watched in (await self._escalations.finish(), await self._plans.finish()):
            if watched is not None and status == "completed":
                if watched.by_ending and state.ending is not None:
                    status, reason, end_at = state.ending.status, state.ending.reason, state.ending.at
                else:
                    end_at = max(end_at, watched.at)
        self._held.drop()
        await self._calls.end(status, reason, end_at)
        return JourneyOutcome(status=status, reason=reason, at=end_at)

    async def _block(self, body: tuple[ir.Statement, ...], path: str, cursor: datetime) -> datetime:
        index = 0
        while index < len(body):
            if self._state.pending:
                await self._judge.judge()
            self._state.raise_if_ended(cursor)
            if run := self._runs.length(body, index):  # in-app messages in a row: one activity
                await self._runs.send(body[:index + run], path, index, cursor, self._last)
                index += run
                continue
            cursor = await self._statement(body[index], f"{path}/{index}", cursor)
            index += 1
        return cursor

    async def _statement(self, st: ir.Statement, path: str, cursor: datetime) -> datetime:
        if isinstance(st, ir.If):
            return await self._if(st, path, cursor)
        if isinstance(st, ir.Split):
            return await self._split(st, path, cursor)
        if isinstance(st, ir.Wait):
            return await self._wait(st, cursor)
        if isinstance(st, ir.WaitUntil):
            return await self._wait_until(st, path, cursor)
        if isinstance(st, ir.StartPlan):
            self._plans.start(st.plan, path, cursor)
            return cursor
        self._log.restart_count()  # the decisions so far go with this statement's effect
        if isinstance(st, ir.SendEmail | ir.SendInApp):
            return await self._send(st, path, cursor)
        failed = await self._effect(st, path, cursor, last=self._last(path))
        if failed and isinstance(st, ir.Do) and st.otherwise:  # `do ... else:` the call failed for good
            return await self._block(st.otherwise, f"{path}/else", cursor)
        return cursor

    def _last(self, path: str) -> bool:
        """Whether the effect at `path` is the journey's last action: its last statement, with no
        email held, no work item watched and no plan open (nothing follows it, and the journey ends
        completed at its moment)."""
        return path == self._last_path and self._held.idle and self._escalations.idle and self._plans.idle

    async def _if(self, st: ir.If, path: str, cursor: datetime) -> datetime:
        snap = await self._calls.snapshot(cursor)
        value, reads = evaluator.evaluate_with_reads(st.condition, snap, event_data=self._inp.data,
                                                     task_state=self._state.task_state(snap),
                                                     entered_at=self._inp.entry_at)
        shown = evaluator.describe(st.condition.arg if st.negated and isinstance(st.condition, ir.Not)
                                   else st.condition)
        subject = f"{'unless' if st.negated else 'if'} {shown}"
        if value is evaluator.UNKNOWN:
            block = "none" if st.otherwise else "skipped"
            self._log.decide(cursor, "branch", path, reads, outcome="unknown", block=block, subject=subject)
            return cursor
        taken = evaluator.truthy(value)
        outcome = "true" if taken != st.negated else "false"  # the value of the condition as written
        block = "then" if taken else ("else" if st.otherwise else "skipped")
        self._log.decide(cursor, "branch", path, reads, outcome=outcome, block=block, subject=subject)
        if taken:
            return await self._block(st.then, f"{path}/then", cursor)
        return await self._block(st.otherwise, f"{path}/else", cursor)

    async def _split(self, st: ir.Split, path: str, cursor: datetime) -> datetime:
        bucket = _bucket(self._inp.playbook.id, self._inp.account)
        edge = 0.0
        for index, arm in enumerate(st.arms):
            edge += arm.percent
            if bucket < edge or index == len(st.arms) - 1:
                name = f"arm {arm.label}" if arm.label else f"cohort {index + 1} of {len(st.arms)}"
                label = arm.label or str(index + 1)
                self._log.decide(cursor, "split", path, {"bucket": bucket, "arm": label}, outcome=label,
                                 subject=f"{name} ({arm.percent:g}%)")
                if st.record_as is not None:  # `record arm as FIELD`: a `set` of the label, before the arm runs
                    self._log.restart_count()
                    record = ir.SetField(field=st.record_as, value=ir.Literal_(type="text", value=label))
                    await self._effect(record, f"{path}/record", cursor)
                return await self._block(arm.body, f"{path}/arm{index + 1}", cursor)
        return cursor

    async def _wait(self, st: ir.Wait, cursor: datetime) -> datetime:
        snap = await self._calls.snapshot(cursor)
        target = calendar.add_duration(cursor, st.duration, snap.timezone)
        await self._clock.sleep_until(target)
        return target

    async def _wait_until(self, st: ir.WaitUntil, path: str, cursor: datetime) -> datetime:
        return await self._waits.run(st, path, cursor)

    async def _send(self, st: ir.SendEmail | ir.SendInApp, path: str, cursor: datetime) -> datetime:
        policy, held = self._inp.policy, self._state.held
        transactional = self._inp.playbook.send_policy == "transactional"  # skips quiet hours, window and cap
        if not isinstance(st, ir.SendEmail):
            await self._deliver(st, path, cursor, last=self._last(path))
            return cursor
        timezone, holidays = "UTC", frozenset[date]()
        if not transactional and (policy.quiet_hours is not None or policy.window is not None or held):
            snap = await self._calls.snapshot(cursor)
            timezone = snap.timezone
            holidays = _holidays(policy, snap.fields)
            # judged at the moment the email would really go (a step run late goes now)
            hold = send_window.send_hold(max(cursor, self._state.now()), timezone, policy, holidays)
            if hold is not None:
                reads: dict[str, Any] = {"timezone": timezone}
                if hold.rule == "send_window" and policy.window is not None:
                    reads["window"] = ir_text.describe_send_window(policy.window)
                self._log.decide(cursor, hold.rule, path, reads, outcome=hold.why, subject=st.template,
                                 until=hold.until)
            elif held:
                self._log.decide(cursor, "quiet_hours", path, {}, outcome="behind_held", subject=st.template,
                                 behind=held[-1].st.template)
            if hold is not None or held:
                self._held.hold(HeldEmail(st, path, hold.until if hold else cursor, timezone, holidays))
                return cursor
        self._reviews.settled_at = None
        free_at = await self._deliver(st, path, cursor, last=self._last(path))
        if free_at is not None:  # over the cap, deferred to its next slot
            self._held.hold(HeldEmail(st, path, free_at, timezone, holidays))
        # a reviewed email: the journey goes on once the review was answered or ran out
        return max(cursor, self._reviews.settled_at or cursor)

    async def _deliver(self, st: ir.SendEmail | ir.SendInApp, path: str, at: datetime, *,
                       last: bool = False) -> datetime | None:
        """Send; over the cap with `over the cap: defer`, the moment the email may try again (its
        slot, later by the playbook's priority when several wait for one), else None. With `last`
        (the journey's last action) a send to one recipient that cannot be deferred carries the end."""
        inp, state = self._inp, self._state
        channel = "email" if isinstance(st, ir.SendEmail) else "in_app"
        transactional = channel == "email" and inp.playbook.send_policy == "transactional"
        cap = None if transactional else next((c for c in inp.policy.caps if c.channel == channel), None)
        recipients = [st.to, *st.also_to] if isinstance(st, ir.SendEmail) else [()]
        addresses: dict[str, str] = {}
        if len(recipients) > 1:  # one person named twice (two fields, one address) gets one message
            snap = await self._calls.snapshot(at)
            addresses = {".".join(to): str(address).lower() for to in recipients
                         if isinstance(address := _field(snap.fields, (*to, "email")), str)}
        sent_to: dict[str, str] = {}
        deferred: list[datetime] = []  # over the cap, `over the cap: defer`: when each deferred recipient may try
        for number, to in enumerate(recipients, start=1):  # one message to each, under a key of its own
            address = addresses.get(".".join(to))
            if address is not None and address in sent_to:
                self._log.decide(at, "send_skipped", f"{path}/to{number}", {"to": address, "recipient": ".".join(to)},
                                 outcome="same_address",
                                 subject=st.template, reason=sent_to[address])
                continue
            if address is not None:
                sent_to[address] = ".".join(to)
            key_path = path if number == 1 else f"{path}/to{number}"
            defer = cap is not None and channel == "email" and inp.policy.over_cap == "defer"
            reviewed = isinstance(st, ir.SendEmail) and st.review is not None  # the journey waits for the review
            email: EmailParams | None = message_params(
                state, self._calls, st, key_path, at, to, last=last and len(recipients) == 1 and not defer
                and not reviewed)
            if isinstance(st, ir.SendEmail) and st.review is not None and email is not None:
                snap = await self._calls.snapshot(at)
                email = await self._reviews.review(st.review, email, key_path, snap.timezone,
                                                   self._hold_rule(snap.timezone, snap.fields))
                if email is None:  # no draft made, or the journey ended while it waited
                    continue
            result = await self._calls.call(_activity(st), email)
            if (free_at := deferred_until(result)) is not None:
                deferred.append(free_at)
        # tried again, a recipient already sent finds its first outcome under its key: sent once
        return min(deferred) + PRIORITY_DELAY[inp.playbook.priority] if deferred else None

    def _hold_rule(self, timezone: str, fields: dict[str, Any]) -> Callable[[datetime], datetime | None]:
        """When an email due at a moment may go, if quiet hours or the send window hold it then."""
        policy = self._inp.policy
        if self._inp.playbook.send_policy == "transactional":
            return lambda moment: None
        holidays = _holidays(policy, fields)

        def hold(moment: datetime) -> datetime | None:
            held = send_window.send_hold(moment, timezone, policy, holidays)
            return held.until if held is not None else None
        return hold

    async def _effect(self, st: ir.Statement, path: str, cursor: datetime, *, last: bool = False) -> bool:
        """`create task`, `set`, `update score` and `do`: one activity each. True when a `do`
        failed for good (recorded as `failed`). With `last` (the journey's last action) a task, a
        `set` or a score update carries the end; a plugin call never does (a retry would call it again)."""
        inp, state = self._inp, self._state
        name = _activity(st)
        if isinstance(st, ir.CreateTask):
            snap = await self._calls.snapshot(cursor)
            due = calendar.add_duration(cursor, st.due, snap.timezone) if st.due else None
            task_id = await self._calls.call(name, TaskParams(
                **self._calls.effect(path, cursor, last=last and st.escalation is None),  # an SLA keeps the journey
                title=st.title, owner=list(st.owner), due=due,
                priority=st.priority, playbook_title=inp.playbook.title,
                **work_item_params(st, cursor, snap.timezone, path)))
            if isinstance(task_id, str):
                state.tasks.append(task_id)
                if st.escalation is not None and due is not None:
                    self._escalations.watch(task_id, st.escalation, path, due, snap.timezone)
            state.snapshot = None
        elif isinstance(st, ir.SetField):
            snap = await self._calls.snapshot(cursor)
            value, reads = evaluator.evaluate_with_reads(st.value, snap, event_data=inp.data,
                                                         entered_at=inp.entry_at)
            if value is evaluator.UNKNOWN:
                self._log.decide(cursor, "set_skipped", path, reads, outcome="unknown", subject=st.field)
                return False
            await self._calls.call(name, SetParams(**self._calls.effect(path, cursor, last=last), field=st.field,
                                                   value=value, clock_offset_seconds=inp.clock_offset_seconds))
            state.snapshot = None
        elif isinstance(st, ir.UpdateScore):
            await self._calls.call(name, ScoreParams(**self._calls.effect(path, cursor, last=last), score=st.score,
                                                     clock_offset_seconds=inp.clock_offset_seconds))
            state.snapshot = None
        elif isinstance(st, ir.Do):
            snap = await self._calls.snapshot(cursor)
            params = {key: _field(snap.fields, param.path) if param.kind == "field" else param.value
                      for key, param in st.params.items()}
            call = PluginParams(**self._calls.effect(path, cursor), activity=name, params=params,
                                run_id=state.run_id, step=path)
            done, _ = await self._calls.attempt(name, call, st.attempts)
            return not done
        else:
            raise TypeError(f"unknown statement {st!r}")  # the IR's union is closed: unreachable
        return False


def _activity(st: ir.Statement) -> str:
    effect = effect_of(st)
    if effect is None:
        raise TypeError(f"{st!r} is no effect")
    return effect.activity


def _bucket(playbook: str, account: str) -> float:
    """A stable number in [0, 100) per (playbook, account): the A/B cohort."""
    digest = hashlib.sha256(f"{playbook}:{account}".encode()).hexdigest()
    return int(digest[:8], 16) % 10000 / 100


def _holidays(policy: ir.Policy, fields: dict[str, Any]) -> frozenset[date]:
    """The account's holidays, when the send window names a field for them."""
    window = policy.window
    if window is None or window.holidays is None:
        return frozenset()
    return send_window.parse_holidays(fields.get(window.holidays))


def _field(fields: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = fields
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
