"""A journey's mutable state: what it heard, what it read last, what it holds, how it ends.

One `JourneyState` per running journey, shared by the parts of the interpreter: signals land
here (`notify`), the last snapshot read is kept here, and so are the tasks it opened, the emails
it holds for quiet hours and its ending (an exit or a goal, at its own time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from temporalio import workflow

import dsl.ir as ir
from engine.records import JourneySignal, Snapshot
from engine.semantics import evaluator
from engine.workflows.payloads import ActivityOptions, JourneyInput

__all__ = ["Ended", "HeldEmail", "JourneyState"]


class Ended(Exception):
    """The journey ends early: an exit or a goal, at its own time."""

    def __init__(self, status: str, reason: str, at: datetime) -> None:
        super().__init__(reason)
        self.status, self.reason, self.at = status, reason, at


@dataclass
class HeldEmail:
    """An email waiting for quiet hours to end or the send window to open, or deferred over the
    cap to its next slot (or behind one that waits)."""

    st: ir.SendEmail
    path: str
    until: datetime  # the moment it may go
    timezone: str
    holidays: frozenset[date] = frozenset()  # the account's holidays, for the send window


@dataclass
class JourneyState:
    inp: JourneyInput
    workflow_id: str = ""
    run_id: str = ""
    ending: Ended | None = None
    events: list[JourneySignal] = field(default_factory=list)  # received, for `wait until event`
    done_tasks: set[str] = field(default_factory=set)
    done_at: dict[str, datetime] = field(default_factory=dict)  # when each of done_tasks was done
    sla_moments: dict[str, datetime] = field(default_factory=dict)  # the next SLA check of each watched item
    drafts_decided: dict[str, datetime] = field(default_factory=dict)  # drafts a person answered, and when
    plan_changes: list[datetime] = field(default_factory=list)  # changes heard while a success plan is open
    plans_open: int = 0
    changed_at: datetime | None = None  # account fields changed since the journey last looked
    last_change: datetime | None = None  # the latest change it looked at
    tasks: list[str] = field(default_factory=list)  # the ids of the tasks it opened, in order
    snapshot: Snapshot | None = None  # the last snapshot read, reused at the same moment
    held: list[HeldEmail] = field(default_factory=list)  # emails waiting for quiet hours, in order
    # events an exit or a goal names with a condition (`where`), to be judged (`EventJudge`)
    pending: list[JourneySignal] = field(default_factory=list)
    watching: bool = False  # a `wait until CONDITION` is waiting: it wants the moments things changed
    changes: list[datetime] = field(default_factory=list)  # those moments, while it waits
    options: dict[str, ActivityOptions] = field(default_factory=dict)  # how its activities run
    entry_timezone: str = "UTC"  # the account's time zone at entry: `day N at HH:MM` steps keep to it
    heard: tuple[int, int] | None = None  # the origin (change, position) of the last drained signal heard

    @property
    def horizon(self) -> timedelta:
        return timedelta(seconds=self.inp.horizon_seconds)

    def now(self) -> datetime:
        """The journey's logical time: the server's clock minus the simulation's offset."""
        return workflow.now() - timedelta(seconds=self.inp.clock_offset_seconds)

    def key(self, path: str) -> str:
        """The idempotency key of what the journey does at `path`."""
        return f"{self.workflow_id}/{self.run_id}/{path}"

    def notify(self, signal: JourneySignal) -> None:
        if self.ending is not None:
            return
        if signal.change is not None:  # drained in order per account: an origin not after the last is a repeat
            origin = (signal.change, signal.position)
            if self.heard is not None and origin <= self.heard:
                return
            self.heard = origin
        playbook = self.inp.playbook
        event = signal.event
        exits = [rule for rule in playbook.exits if rule.event is not None and rule.event == event]
        if any(rule.where is None for rule in exits):
            self.end(Ended("exited", f"event {event}", signal.at))
        elif event in playbook.goal_events and event not in playbook.goal_where:
            self.end(Ended("goal_reached", f"event {event}", signal.at))
        elif event:
            if exits or event in playbook.goal_where:
                self.pending.append(signal)  # its condition is judged with the account at its moment
            self.events.append(signal)
        if signal.task_done:
            self.done_tasks.add(signal.task_done)
            self.done_at.setdefault(signal.task_done, signal.at)
        if signal.draft_decided:
            self.drafts_decided.setdefault(signal.draft_decided, signal.at)
        if signal.fields_changed:
            self.changed_at = max(self.changed_at or signal.at, signal.at)
        if self.watching and (signal.fields_changed or event or signal.task_done):
            self.changes.append(signal.at)
        if self.plans_open and (signal.fields_changed or event):
            self.plan_changes.append(signal.at)

    def end(self, ended: Ended) -> None:
        """End at `ended` unless an ending dated no later is already known (event time decides)."""
        if self.ending is None or ended.at < self.ending.at:
            self.ending = ended

    def ended_by(self, moment: datetime) -> bool:
        """An exit or goal happened at or before `moment` (event time: a later one waits its turn)."""
        return self.ending is not None and self.ending.at <= moment

    def raise_if_ended(self, moment: datetime) -> None:
        if self.ending is not None and self.ending.at <= moment:
            raise self.ending

    def took(self, snap: Snapshot) -> None:
        """A snapshot was read: keep it, and end the journey if an exit or goal holds on it."""
        self.snapshot = snap
        pb = self.inp.playbook
        if self.ending is not None:
            return
        for rule in pb.exits:
            if rule.condition is not None and evaluator.truthy(
                    evaluator.evaluate(rule.condition, snap, entered_at=self.inp.entry_at)):
                self.end(Ended("exited", evaluator.describe(rule.condition), snap.at))
                return
        if pb.goal is not None and evaluator.truthy(evaluator.evaluate(pb.goal, snap, entered_at=self.inp.entry_at)):
            self.end(Ended("goal_reached", evaluator.describe(pb.goal), snap.at))

    def task_state(self, snap: Snapshot) -> str | None:
        """The state of the journey's last task: `done`, `open`, or None without one."""
        if not self.tasks:
            return None
        last = self.tasks[-1]
        if last in self.done_tasks:
            return "done"
        record = snap.tasks.get(last)
        return record.status if record else None
