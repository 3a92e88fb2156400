"""`playbook why`: an account's story in the playbooks, told from the action log.

Every line of the log about the account (and, with a playbook, about that playbook) becomes one
plain sentence, in time order: entering a playbook and what the trigger and the audience read,
triggers that were refused and why, every branch and split with the values it read, quiet-hours
delays, waits and how they ended, what was sent, suppressed and opened, tasks done, exits, goals
and endings, and the notes CSMs wrote about the account. For every journey still active it then
says what comes next and when: the step's time from the journey's IR (the entry time plus the
step's offset, or the date field as it stands now), or the wait it sits in.

The story is "as of" a moment (`now`, the wall clock by default): later lines are left out and a
journey that ended later is still active then. That tells a simulation's story at any day of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from dsl import ir
from dsl.ir_text import describe, describe_step
from engine.decision_text import failure_text
from engine.insight.analytics import describe_statement, statement_path
from engine.insight.decision_story import DecisionTeller, waits_until
from engine.insight.story_values import read_values, shown_time, shown_value
from engine.insight.work_story import WORK_KINDS, work_text
from engine.records import ActionRecord, Snapshot, TaskRecord
from engine.semantics import calendar
from engine.semantics.evaluator import evaluate_with_reads, truth
from engine.semantics.time_rules import DEFAULT_HORIZON
from engine.store.rows import JourneyRow
from engine.store.snapshots import build_snapshot

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["JourneyState", "Story", "StoryLine", "action_lines", "shown_time", "tell"]

class StoryLine(BaseModel):
    at: datetime
    playbook: str | None
    kind: str  # the action's kind; `task_done`; `next` for what is scheduled
    what: str | None = None  # a decision's `what`
    step: str | None = None  # the statement's path in the playbook
    text: str
    reads: dict[str, Any] = {}


class JourneyState(BaseModel):
    playbook: str
    run_id: str
    version: str
    status: str  # as of `now`
    entered_at: datetime
    ended_at: datetime | None
    reason: str | None
    next_at: datetime | None = None  # active journeys: when the next thing happens
    next: str | None = None  # and what it is


class Story(BaseModel):
    account: str
    playbook: str | None
    now: datetime
    timezone: str
    journeys: list[JourneyState]
    lines: list[StoryLine]


@dataclass
class _Teller:
    store: Store
    bundle: ir.Bundle
    account: str
    tz: str
    decisions: DecisionTeller = field(init=False)

    def __post_init__(self) -> None:
        self.decisions = DecisionTeller(self.bundle, self.tz)

    def reads(self, reads: dict[str, Any]) -> str:
        return read_values(reads, self.bundle.model)

    def playbook(self, name: str | None) -> ir.Playbook | None:
        return self.bundle.playbooks.get(name) if name else None

    def statement(self, playbook: str | None, path: str) -> ir.Statement | None:
        spec = self.playbook(playbook)
        if spec is None:
            return None
        root, _, rest = path.partition("/")
        step = next((s for s in spec.steps if s.name == root), None)
        if step is None or not rest:
            return None
        body: tuple[ir.Statement, ...] = step.body
        found: ir.Statement | None = None
        parts = rest.split("/")
        index = 0
        while index < len(parts):
            try:
                found = body[int(parts[index])]
            except (ValueError, IndexError):
                return None
            if index + 1 >= len(parts):
                return found
            block = parts[index + 1]
            if isinstance(found, ir.If) or (isinstance(found, ir.Do) and block == "else"):
                body = found.then if isinstance(found, ir.If) and block == "then" else found.otherwise
            elif isinstance(found, ir.Split) and block.startswith("arm"):
                try:
                    body = found.arms[int(block[3:]) - 1].body
                except (ValueError, IndexError):
                    return None
            else:
                return None
            index += 2
        return found

    # ------------------------------------------------------------------ one action

    def line(self, action: ActionRecord, journeys: dict[str, JourneyRow]) -> StoryLine | None:
        data = action.data
        kind = action.kind
        pb = action.playbook
        raw = _path(action)
        path = statement_path(kind, raw) if raw is not None else None
        where = f"{path.split('/')[0]}: " if path and path not in ("enter", "end") else ""
        what = data.get("what") if kind == "decided" else None
        reads = dict(data.get("reads") or {}) if kind == "decided" else {}
        text: str
        if kind == "enrolled":
            text = self.entered(action, journeys)
        elif kind == "decided":
            statement = self.statement(pb, path) if path else None
            text = self.decisions.tell(action, str(what), statement, where)
        elif kind == "email":
            reviewed = {"approved": " as its reviewer approved it", "edited": " as its reviewer edited it",
                        "unreviewed": " unreviewed (nobody answered in time)"}.get(str(data.get("review")), "")
            text = f'{where}sent email {data.get("template")} to {data.get("to")}{reviewed}: "{data.get("subject")}".'
        elif kind == "in_app":
            text = f'{where}showed in-app message {data.get("template")}: "{data.get("title")}".'
        elif kind == "suppressed":
            channel = "in-app message" if data.get("channel") == "in_app" else "email"
            to = f" to {data['to']}" if data.get("to") else ""
            text = f"{where}{channel} {data.get('template')}{to} was not sent: {_suppression(data.get('reason'))}."
        elif kind == "deferred":
            until = data.get("until")
            shown = shown_time(datetime.fromisoformat(until), self.tz) if isinstance(until, str) else "a free slot"
            to = f" to {data['to']}" if data.get("to") else ""
            text = (f"{where}email {data.get('template')}{to} was deferred ({data.get('reason')}): "
                    f"it waits until {shown}.")
        elif kind == "task":
            due = data.get("due")
            due_text = f", due {shown_time(datetime.fromisoformat(due), self.tz)}" if isinstance(due, str) else ""
            kind_text = f" ({data['type']}: {data.get('reason')})" if data.get("type") else ""
            text = (f'{where}opened task "{data.get("title")}"{kind_text} for {data.get("owner")}{due_text}, '
                    f'{data.get("priority", "normal")} priority.')
        elif kind == "task_updated":
            text = (f'{where}found task "{data.get("title")}" ({data.get("type")}: {data.get("reason")}) open '
                    "already: it updated it and waits on it instead of opening another.")
        elif kind == "set":
            text = f"{where}set {data.get('field')} to {shown_value(data.get('value'), None)}."
        elif kind == "call":
            text = f"{where}called {data.get('activity')}."
        elif kind == "score":
            value = data.get("value")
            shown = "unscored" if value is None else shown_value(value, None)
            band = f" ({data['band']})" if data.get("band") else ""
            text = f"{data.get('score')} score is now {shown}{band}."
        elif kind == "failed":
            text = f"{where}{data.get('step')} failed: {failure_text(data)}; the journey went on with its next step."
        elif kind == "goal_reached":
            text = f"reached the goal of {pb} ({data.get('reason')}): the journey ended."
        elif kind == "exited":
            text = f"left {pb} on its exit rule: {data.get('reason')}."
        elif kind == "completed":
            text = f"completed {pb}: no steps left."
        elif kind == "task_snoozed":
            until = data.get("until")
            shown = shown_time(datetime.fromisoformat(until), self.tz) if isinstance(until, str) else str(until)
            text = f"task {data.get('task')} was snoozed until {shown}: {data.get('reason')}."
        elif kind in WORK_KINDS or kind.startswith(("plan_", "milestone_")):
            text = work_text(kind, data, where, self.tz)
        elif kind == "task_reassigned":
            why = f" ({data['reason']})" if data.get("reason") else ""
            text = f"task {data.get('task')} was reassigned from {data.get('from')} to {data.get('to')}{why}."
        else:
            text = ", ".join(f"{key} {value}" for key, value in data.items()) or kind
        return StoryLine(at=action.at, playbook=pb, kind=kind, what=what, step=path, text=_capital(text),
                         reads=reads)

    def entered(self, action: ActionRecord, journeys: dict[str, JourneyRow]) -> str:
        pb = action.playbook or ""
        spec = self.playbook(pb)
        reason = str(action.data.get("reason") or "")
        title = f' ("{spec.title}")' if spec and spec.title else ""
        text = f"entered {pb}{title} on {reason or 'its trigger'}"
        version = str(action.data.get("version") or "")
        if spec is None or self.bundle.versions.get(pb) != version:
            return text + " (with a version of the playbook that is no longer deployed)."
        snap = build_snapshot(self.store, self.bundle, self.account, action.at)
        parts = []
        trigger_reads = self.trigger_reads(spec, snap)
        if trigger_reads:
            parts.append(f"the trigger read {self.reads(trigger_reads)}")
        if spec.audience is not None:
            data = self.event_data(spec, action.at)
            value, reads = evaluate_with_reads(spec.audience, snap, event_data=data,
                                               bundle_scores=self.bundle.scores)
            outcome = "held" if truth(value) is True else "did not hold"
            parts.append(f"the audience {describe(spec.audience)} {outcome}"
                         + (f" ({self.reads(reads)})" if reads else ""))
        return text + ("; " + "; ".join(parts) if parts else "") + "."

    def trigger_reads(self, spec: ir.Playbook, snap: Snapshot) -> dict[str, Any]:
        trigger = spec.trigger
        if isinstance(trigger, ir.ConditionTrigger):
            return evaluate_with_reads(trigger.condition, snap, bundle_scores=self.bundle.scores)[1]
        if isinstance(trigger, ir.EventTrigger) and trigger.where is not None:
            data = self.event_data(spec, snap.at)
            return evaluate_with_reads(trigger.where, snap, event_data=data, bundle_scores=self.bundle.scores)[1]
        if isinstance(trigger, ir.DateTrigger | ir.ChangeTrigger):
            return {trigger.field: snap.fields.get(trigger.field)}
        return {}

    def event_data(self, spec: ir.Playbook, at: datetime) -> dict[str, Any] | None:
        trigger = spec.trigger
        if not isinstance(trigger, ir.EventTrigger):
            return None
        events = self.store.events_until(self.account, at, names={trigger.event})
        same = [data for _, when, data in events if when == at]
        return same[-1] if same else None

    # ------------------------------------------------------------------ what comes next

    def next(self, journey: JourneyRow, logged: list[ActionRecord], now: datetime) -> tuple[datetime | None, str]:
        spec = self.playbook(journey.playbook)
        if spec is None:
            return None, f"{journey.playbook} is no longer deployed: what comes next is not known here."
        note = "" if self.bundle.versions.get(spec.id) == journey.version else \
            " (from the deployed version; this journey runs an older one)"
        paths = [(a, statement_path(a.kind, p)) for a in logged if (p := _path(a)) not in (None, "enter", "end")]
        last_action, last = paths[-1] if paths else (None, None)
        step_index = -1
        pending: list[tuple[str, ir.Statement]] = []
        if last is not None and last_action is not None:
            root = last.split("/")[0]
            step_index = next((i for i, s in enumerate(spec.steps) if s.name == root), -1)
            if last_action.kind == "email_drafted" and isinstance(last_action.data.get("review_by"), str):
                by = datetime.fromisoformat(str(last_action.data["review_by"]))
                unanswered = "sent" if last_action.data.get("then") == "send" else "dropped"
                return by, (f"{root}: waiting for {last_action.data.get('reviewer')} to review draft "
                            f"{last_action.data.get('draft')} (unanswered by then: {unanswered}){note}")
            if step_index >= 0:
                until = waits_until(last_action)
                statement = self.statement(spec.id, last)
                if until is not None and statement is not None:
                    return until, f"{root}: {describe_statement(statement)} once quiet hours end{note}"
                skipped = last_action.kind == "decided" and last_action.data.get("what") == "step_skipped"
                if not skipped:
                    pending = _following(spec.steps[step_index], last, last_action)
        cursor = last_action.at if last_action is not None else journey.entered_at
        if pending:
            path, statement = pending[0]
            root = path.split("/")[0]
            if isinstance(statement, ir.Wait):
                at = calendar.add_duration(cursor, statement.duration, self.tz)
                then = f", then {describe_statement(pending[1][1])}" if len(pending) > 1 else ""
                return at, f"{root}: waiting ({describe_statement(statement)}){then}{note}"
            if isinstance(statement, ir.WaitUntil):
                at = calendar.add_duration(cursor, statement.timeout, self.tz)
                return at, f"{root}: `{describe_statement(statement)}`: waiting, at the latest until then{note}"
            return cursor, f"{root}: {describe_statement(statement)}{note}"
        for step in spec.steps[step_index + 1:]:
            first = describe_statement(step.body[0]) if step.body else "nothing"
            if step.anchor == "entry":
                tz = build_snapshot(self.store, self.bundle, self.account, journey.entered_at).timezone \
                    if step.day_at is not None else self.tz
                at = max(calendar.entry_step_instant(journey.entered_at, step.offset, step.day_at, tz), cursor)
                return at, f"{describe_step(step)}: {first}{self.quiet_hours_note(spec, step, at)}{note}"
            snap = build_snapshot(self.store, self.bundle, self.account, max(now, cursor))
            value = snap.fields.get(step.anchor)
            target = calendar.date_instant(str(value), step.offset_days, step.at, snap.timezone) if value else None
            if target is None:
                return None, f"{step.name}: will be skipped, {step.anchor} is missing{note}"
            if target < max(now, cursor) - DEFAULT_HORIZON:  # the one threshold of late steps
                return target, f"{step.name}: will be skipped, its time has passed ({step.anchor} is {value}){note}"
            return max(target, cursor), (f"{step.name}: {first} ({step.anchor} is {value})"
                                         f"{self.quiet_hours_note(spec, step, target)}{note}")
        return cursor, f"no steps left: {_watching(logged)}{note}"

    def quiet_hours_note(self, spec: ir.Playbook, step: ir.Step, at: datetime) -> str:
        first = step.body[0] if step.body else None
        if not isinstance(first, ir.SendEmail):
            return ""
        until = calendar.quiet_until(at, self.tz, self.bundle.policy.quiet_hours)
        if until is None:
            return ""
        return f"; that is in quiet hours, so the email waits until {shown_time(until, self.tz)}"


def _watching(logged: list[ActionRecord]) -> str:
    """What a journey with no steps left still waits for: its open success plans, its items with
    an SLA; or nothing, and it completes."""
    plans = {a.data.get("plan") for a in logged if a.kind == "plan_started"} - {
        a.data.get("plan") for a in logged if a.kind == "plan_ended"}
    if plans:
        return f"the journey completes when success plan {', '.join(sorted(map(str, plans)))} closes"
    return "the journey completes"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text and not text.startswith("`") else text


def _suppression(reason: Any) -> str:
    text = str(reason or "suppressed")
    if text in ("unsubscribed", "bounced"):
        return f"the address is on the suppression list ({text})"
    return text


def _path(action: ActionRecord) -> str | None:
    """The step path of a journey action's key (`day 7/0/then/0`), None for other actions."""
    key = action.key or ""
    prefix = f"journey/{action.playbook}/{action.account}/"
    if action.playbook is None or not key.startswith(prefix):
        return None
    run, _, path = key[len(prefix):].partition("/")
    return path if run and path else None


def _run(action: ActionRecord) -> str | None:
    key = action.key or ""
    prefix = f"journey/{action.playbook}/{action.account}/"
    if action.playbook is None or not key.startswith(prefix):
        return None
    return key[len(prefix):].partition("/")[0] or None


def _following(step: ir.Step, path: str, action: ActionRecord) -> list[tuple[str, ir.Statement]]:
    """The statements of `step` still to run after the one at `path` (the last one logged)."""
    parts = path.split("/")[1:]

    def after(body: tuple[ir.Statement, ...], at: list[str], prefix: str) -> list[tuple[str, ir.Statement]]:
        try:
            index = int(at[0])
        except (ValueError, IndexError):
            return []
        if index >= len(body):
            return []
        rest = [(f"{prefix}/{i}", s) for i, s in enumerate(body) if i > index]
        statement = body[index]
        if len(at) >= 3 and (isinstance(statement, ir.If) or (isinstance(statement, ir.Do) and at[1] == "else")):
            inner = statement.then if isinstance(statement, ir.If) and at[1] == "then" else statement.otherwise
            return after(inner, at[2:], f"{prefix}/{index}/{at[1]}") + rest
        if len(at) >= 3 and isinstance(statement, ir.Split) and at[1].startswith("arm"):
            arm = statement.arms[int(at[1][3:]) - 1]
            return after(arm.body, at[2:], f"{prefix}/{index}/{at[1]}") + rest
        block = action.data.get("block") if action.kind == "decided" else None
        if len(at) == 1 and isinstance(statement, ir.If) and block in ("then", "else"):
            inner = statement.then if block == "then" else statement.otherwise
            return [(f"{prefix}/{index}/{block}/{i}", s) for i, s in enumerate(inner)] + rest
        return rest

    return after(step.body, parts, step.name)


def _as_of(journey: JourneyRow, now: datetime) -> JourneyRow:
    if journey.ended_at is not None and journey.ended_at > now:
        return journey.model_copy(update={"status": "active", "ended_at": None, "reason": None})
    return journey


def _mentions_score(spec: ir.Playbook, score: str) -> bool:
    return f'"score":"{score}"' in spec.model_dump_json()


def action_lines(store: Store, bundle: ir.Bundle, account: str, actions: list[ActionRecord],
                 tz: str) -> list[StoryLine | None]:
    """These actions of the account's log, each told as the story tells it (a page of the account's
    timeline, `engine.read_model.timeline`), in the time zone `tz`."""
    teller = _Teller(store, bundle, account, tz)
    return [teller.line(action, {}) for action in actions]


def tell(store: Store, bundle: ir.Bundle, account: str, playbook: str | None = None,
         now: datetime | None = None) -> Story:
    """The account's story (in one playbook, or all of them) as of `now` (default: the wall clock)."""
    now = now or datetime.now(UTC)
    tz = build_snapshot(store, bundle, account, now).timezone
    teller = _Teller(store, bundle, account, tz)
    actions = [a for a in store.actions(account=account, playbook=playbook) if a.at <= now]
    if playbook is not None:
        spec = bundle.playbooks.get(playbook)
        scores = [a for a in store.actions(account=account) if a.kind == "score" and a.at <= now
                  and spec is not None and _mentions_score(spec, str(a.data.get("score")))]
        actions = sorted([*actions, *scores], key=lambda a: a.at)
    rows = [_as_of(j, now) for j in store.journeys(account=account, playbook=playbook) if j.entered_at <= now]
    by_run = {j.run_id: j for j in rows}
    lines = [line for action in actions if (line := teller.line(action, by_run)) is not None]
    tasks: list[TaskRecord] = [t for t in store.tasks(account=account) if playbook in (None, t.playbook)]
    for task in tasks:
        if task.completed_at is not None and task.created_at <= now and task.completed_at <= now:
            lines.append(StoryLine(at=task.completed_at, playbook=task.playbook, kind="task_done",
                                   text=f'Task "{task.title}" was marked done'
                                        f'{f" ({task.outcome})" if task.outcome else ""}.'))
    if playbook is None:  # notes are about the account, not a playbook
        lines += [StoryLine(at=note.at, playbook=None, kind="note",
                            text=f'Note{f" by {note.author}" if note.author else ""}: "{" ".join(note.text.split())}"')
                  for note in store.notes(account, until=now)]
    lines.sort(key=lambda line: line.at)  # stable: the log's own order within an instant
    states = []
    for journey in rows:
        state = JourneyState(playbook=journey.playbook, run_id=journey.run_id, version=journey.version,
                             status=journey.status, entered_at=journey.entered_at, ended_at=journey.ended_at,
                             reason=journey.reason)
        if journey.status == "active":
            logged = [a for a in actions if a.playbook == journey.playbook and _run(a) == journey.run_id]
            state.next_at, state.next = teller.next(journey, logged, now)
            when = f"at {shown_time(state.next_at, tz)}" if state.next_at is not None else "not scheduled"
            lines.append(StoryLine(at=state.next_at or now, playbook=journey.playbook, kind="next",
                                   text=f"Next in {journey.playbook}, {when}: {state.next}."))
        states.append(state)
    return Story(account=account, playbook=playbook, now=now, timezone=tz, journeys=states, lines=lines)
