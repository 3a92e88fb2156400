"""A journey's statements: the interpreter that runs a playbook's steps for one account.

`JourneyInterpreter.run` enters, reaches each step at its time (`journey_time.py`) and runs its
body: `if`/`unless` and `split` decide as pure functions of a snapshot (each decision logged),
`wait` and `wait until` wait, and every effect (`send`, `create task`, `set`, `update score`,
`do`) is one activity with the step's idempotency key. An exit or goal ends the journey at its
own time, whatever it was doing.

An `if` whose condition is unknown (it reads a missing field) takes neither branch: not its body,
not its `else`; the decision says so. An email that falls in quiet hours is *held*: it waits for
their end on its own while the journey goes on (a task, a `set`, a score update or a plugin call
after it is not delayed); the journey's later emails queue behind it in order. A journey that
exits or reaches its goal before a held email's moment drops it, recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

import dsl.ir as ir
from engine import calendar, evaluator
from engine.workflows.journey_state import Ended, HeldEmail
from engine.workflows.journey_time import JourneyClock
from engine.workflows.messages import (
    EmailParams,
    JourneyInput,
    JourneyOutcome,
    PluginParams,
    ScoreParams,
    SetParams,
    TaskParams,
)

__all__ = ["JourneyInterpreter"]


class JourneyInterpreter(JourneyClock):
    def __init__(self, inp: JourneyInput) -> None:
        super().__init__(inp)
        self._sending: asyncio.Task[None] | None = None
        self._held_last_at = inp.entry_at  # the moment of the last held email sent

    async def run(self) -> JourneyOutcome:
        inp = self._inp
        status, reason, end_at = "completed", "", inp.entry_at
        cursor = inp.entry_at
        try:
            await self._enter()  # a goal already reached at entry ends the journey at once
            steps = inp.playbook.steps
            for index, step in enumerate(steps):
                self._later = [inp.entry_at + timedelta(seconds=later.offset.seconds())
                               for later in steps[index + 1:] if later.anchor == "entry"]
                reached = await self._reach(step, cursor)
                if reached is None:
                    continue
                cursor = await self._block(step.body, step.name, reached)
                self._step_done()
            end_at = cursor
        except Ended as ended:
            status, reason, end_at = ended.status, ended.reason, ended.at
        if self._sending is not None:
            await self._sending  # held emails go out at their moments, or stop at an exit before them
            if status == "completed" and self._held_emails and self._ending is not None:
                status, reason, end_at = self._ending.status, self._ending.reason, self._ending.at
            elif status == "completed":
                end_at = max(end_at, self._held_last_at)
        self._drop_held()
        await self._end(status, reason, end_at)
        return JourneyOutcome(status=status, reason=reason, at=end_at)

    async def _block(self, body: tuple[ir.Statement, ...], path: str, cursor: datetime) -> datetime:
        for index, statement in enumerate(body):
            self._raise_if_ended(cursor)
            cursor = await self._statement(statement, f"{path}/{index}", cursor)
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
        self._counter = 0  # the decisions so far go with this statement's effect (`_effect`)
        if isinstance(st, ir.SendEmail | ir.SendInApp):
            return await self._send(st, path, cursor)
        if isinstance(st, ir.CreateTask):
            snap = await self._snapshot(cursor)
            due = calendar.add_duration(cursor, st.due, snap.timezone) if st.due else None
            task_id = await self._call("task.create", TaskParams(
                **self._effect(path, cursor), title=st.title, owner=list(st.owner), due=due,
                priority=st.priority, playbook_title=self._inp.playbook.title))
            if isinstance(task_id, str):
                self._tasks.append(task_id)
            self._snapshot_cache = None
            return cursor
        if isinstance(st, ir.SetField):
            snap = await self._snapshot(cursor)
            value, reads = evaluator.evaluate_with_reads(st.value, snap, event_data=self._inp.data,
                                                         entered_at=self._inp.entry_at)
            if value is evaluator.UNKNOWN:
                self._decide(cursor, "set_skipped", f"set {st.field}: the value is unknown", path, reads)
                return cursor
            await self._call("field.set", SetParams(**self._effect(path, cursor), field=st.field, value=value,
                                                    clock_offset_seconds=self._inp.clock_offset_seconds))
            self._snapshot_cache = None
            return cursor
        if isinstance(st, ir.UpdateScore):
            await self._call("score.update", ScoreParams(**self._effect(path, cursor), score=st.score,
                                                         clock_offset_seconds=self._inp.clock_offset_seconds))
            self._snapshot_cache = None
            return cursor
        if isinstance(st, ir.Do):
            snap = await self._snapshot(cursor)
            params: dict[str, Any] = {}
            for name, param in st.params.items():
                params[name] = _field(snap.fields, param.path) if param.kind == "field" else param.value
            await self._call(st.activity, PluginParams(**self._effect(path, cursor), activity=st.activity,
                                                       params=params))
            return cursor
        raise TypeError(f"unknown statement {st!r}")  # the IR's union is closed: unreachable

    async def _if(self, st: ir.If, path: str, cursor: datetime) -> datetime:
        snap = await self._snapshot(cursor)
        value, reads = evaluator.evaluate_with_reads(st.condition, snap, event_data=self._inp.data,
                                                     task_state=self._task_state(snap), entered_at=self._inp.entry_at)
        taken = evaluator.truthy(value)
        shown = evaluator.describe(st.condition.arg if st.negated and isinstance(st.condition, ir.Not)
                                   else st.condition)
        word = "unless" if st.negated else "if"
        outcome = "unknown" if value is evaluator.UNKNOWN else ("true" if taken else "false")
        if value is evaluator.UNKNOWN:
            ran = "neither branch ran" if st.otherwise else "skipped"
            self._decide(cursor, "branch", f"{word} {shown}: unknown ({ran})", path, reads)
            return cursor
        self._decide(cursor, "branch", f"{word} {shown}: {outcome if not st.negated else _flip(outcome)}"
                     f" ({'ran' if taken else 'skipped'})", path, reads)
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
                self._decide(cursor, "split", f"{name} ({arm.percent:g}%)", path,
                             {"bucket": bucket, "arm": arm.label or str(index + 1)})
                return await self._block(arm.body, f"{path}/arm{index + 1}", cursor)
        return cursor

    async def _send(self, st: ir.SendEmail | ir.SendInApp, path: str, cursor: datetime) -> datetime:
        quiet = self._inp.policy.quiet_hours
        if isinstance(st, ir.SendEmail) and (quiet is not None or self._held_emails):
            snap = await self._snapshot(cursor)
            # judged at the moment the email would really go (a step run late goes now)
            until = calendar.quiet_until(max(cursor, self._now()), snap.timezone, quiet)
            if until is not None:
                self._decide(cursor, "quiet_hours",
                             f"send email {st.template}: quiet hours in {snap.timezone}, waits until "
                             f"{until.isoformat()}; the journey goes on", path, {"timezone": snap.timezone})
            elif self._held_emails:
                self._decide(cursor, "quiet_hours", f"send email {st.template}: waits behind the journey's "
                             f"held email ({self._held_emails[-1].st.template})", path, {})
            if until is not None or self._held_emails:
                self._hold(HeldEmail(st, path, until or cursor, snap.timezone))
                return cursor
        await self._deliver(st, path, cursor)
        return cursor

    async def _deliver(self, st: ir.SendEmail | ir.SendInApp, path: str, at: datetime) -> None:
        policy = self._inp.policy
        channel = "email" if isinstance(st, ir.SendEmail) else "in_app"
        cap = next((c for c in policy.caps if c.channel == channel), None)
        cached = self._snapshot_cache  # the account as the journey read it at this moment, if unchanged since
        token = cached.token if cached is not None and cached.at == at and self._changed_at is None else None
        await self._call("message.send", EmailParams(
            **self._effect(path, at), channel=channel, template=self._inp.templates[st.template],
            to=list(st.to) if isinstance(st, ir.SendEmail) else [],
            cap_count=cap.count if cap else None, cap_seconds=cap.per.seconds() if cap else None,
            event=self._inp.event, data=self._inp.data, playbook_title=self._inp.playbook.title, snapshot=token))

    # ------------------------------------------------------------------ held emails

    def _hold(self, held: HeldEmail) -> None:
        if self._held_emails:
            held.until = max(held.until, self._held_emails[-1].until)
        self._held_emails.append(held)
        if self._sending is None or self._sending.done():
            self._sending = asyncio.create_task(self._send_held())

    async def _send_held(self) -> None:
        """Send the held emails in order, each at its moment (after quiet hours, judged again then);
        stop at an exit or goal dated at or before the next one's moment."""
        quiet = self._inp.policy.quiet_hours
        while self._held_emails:
            held = self._held_emails[0]
            moment = held.until
            remaining = (moment - self._now()).total_seconds()
            if remaining > 0:
                await self._note(moment)
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda at=moment: self._ended_by(at),  # type: ignore[misc]
                                                  timeout=timedelta(seconds=remaining))
            if self._ended_by(moment):
                return
            again = calendar.quiet_until(max(moment, self._now()), held.timezone, quiet)
            if again is not None:
                held.until = again
                continue
            self._held_emails.pop(0)
            self._held_last_at = moment
            await self._deliver(held.st, held.path, moment)

    def _drop_held(self) -> None:
        """The journey ended before these held emails' moments: they are not sent, and say so."""
        ending = self._ending
        for held in self._held_emails:
            why = f"the journey ended ({ending.reason}) at {ending.at.isoformat()}" if ending else "the journey ended"
            self._decide(held.until, "send_dropped", f"send email {held.st.template}: held for quiet hours until "
                         f"{held.until.isoformat()}; {why} before it could go", held.path, {})
        self._held_emails.clear()


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
