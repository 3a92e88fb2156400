"""One account's timeline as the dashboard shows it: everything that happened to it, newest
first, in six kinds a reader can filter on:

- `event`: the customer's own events (`signed`, `login` …; completing a task is told as work);
- `score`: each recording of a score of the bundle, with its band (from the score history);
- `message`: emails and in-app messages sent, held, deferred or suppressed, drafted for review and
  answered;
- `work`: work items opened, updated, snoozed, reassigned and done;
- `decision`: what the journeys decided: entries and refusals, branches, splits, waits, exits,
  goals, endings, fields set, plugins called;
- `note`: what CSMs wrote about the account (`engine.store.notes`).

The sentences are the ones of `playbook why` (`engine.insight.story`), so both read alike. An
entry for a work item being opened carries the item's id (`task`), so a work list can link to
the decision that opened it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from dsl import ir
from engine.insight.story import Story, StoryLine, tell
from engine.store import Store

__all__ = ["KINDS", "TimelineEntry", "TimelineKind", "account_timeline", "kind_of"]

TimelineKind = Literal["event", "score", "message", "work", "decision", "note"]
KINDS: tuple[TimelineKind, ...] = ("event", "score", "message", "work", "decision", "note")
DEFAULT_LIMIT = 200

_MESSAGE = {"email", "in_app", "suppressed", "deferred", "held", "email_opened", "email_clicked"}
_WORK = {"task", "task_updated", "task_snoozed", "task_reassigned", "task_done"}
_TOLD_AS_WORK = {"task_completed"}  # events the work items tell better


class TimelineEntry(BaseModel):
    at: datetime
    kind: TimelineKind
    playbook: str | None = None
    label: str  # the action's or event's own name: `email`, `decided: branch`, `signed`
    text: str
    step: str | None = None  # the statement's path in the playbook, for journey lines
    task: str | None = None  # the work item an opening line is about


def kind_of(line_kind: str) -> TimelineKind:
    """The timeline kind of a story line's kind (an action's kind, `task_done`, `note`)."""
    if line_kind == "score":
        return "score"
    if line_kind == "note":
        return "note"
    if line_kind in _MESSAGE or line_kind.startswith("draft_") or line_kind == "email_drafted":
        return "message"
    if line_kind in _WORK:
        return "work"
    return "decision"


def _entry(line: StoryLine, task: str | None) -> TimelineEntry:
    return TimelineEntry(at=line.at, kind=kind_of(line.kind), playbook=line.playbook,
                         label=f"{line.kind}: {line.what}" if line.what else line.kind.replace("_", " "),
                         text=line.text, step=line.step, task=task)


def account_timeline(store: Store, bundle: ir.Bundle, account: str, now: datetime, *,
                     kinds: set[str] | None = None, limit: int = DEFAULT_LIMIT,
                     story: Story | None = None) -> list[TimelineEntry]:
    """The account's timeline as of `now`, newest first: only `kinds` when given, at most `limit`
    entries. `story`: the account's story as of `now`, when the caller has told it already."""
    wanted = set(KINDS) if not kinds else set(kinds) & set(KINDS)
    entries: list[TimelineEntry] = []
    if wanted - {"event", "score"}:
        opened: dict[tuple[datetime, str | None], list[str]] = defaultdict(list)
        if "work" in wanted:
            for action in store.actions(account=account):
                if action.kind == "task" and action.at <= now and isinstance(action.data.get("task"), str):
                    opened[(action.at, action.playbook)].append(action.data["task"])
        for line in (story or tell(store, bundle, account, now=now)).lines:
            if line.kind in ("next", "score") or kind_of(line.kind) not in wanted:
                continue  # scores: from their history below, which holds every recording
            ids = opened.get((line.at, line.playbook)) if line.kind == "task" else None
            entries.append(_entry(line, ids.pop(0) if ids else None))
    if "score" in wanted:
        for name in sorted(bundle.scores):
            for at, state in store.score_history(account, name):
                if at <= now:
                    shown = "unscored" if state.value is None else f"{state.value:g}"
                    band = f" ({state.band})" if state.band else ""
                    entries.append(TimelineEntry(at=at, kind="score", label=name,
                                                 text=f"{name[:1].upper()}{name[1:]} score is now {shown}{band}."))
    if "event" in wanted:
        for name, at, data in store.events_until(account, now):
            if name in _TOLD_AS_WORK:
                continue
            shown = ", ".join(f"{key}: {value}" for key, value in data.items())
            entries.append(TimelineEntry(at=at, kind="event", label=name,
                                         text=f"{name}{f' ({shown})' if shown else ''}"[:500]))
    entries.sort(key=lambda entry: entry.at, reverse=True)  # stable: same-instant lines keep their order
    return entries[:limit]
