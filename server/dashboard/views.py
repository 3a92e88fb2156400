"""What the playbook pages and the outbox show, and what every page shares: a work item as a card
(`TaskCard`: due in words, overdue, checklist progress), the order of urgency, a score's trend.

Synchronous, like the store; the routes call these on a worker thread. The account pages are
`server.dashboard.account_view` and `accounts_view`, the work lists `work_view`.

The playbook page shows each step's statements as they nest (`engine.insight.funnel`): a
statement inside an `if`, `unless` or a split's arm is indented under it, with the block it runs
in (`then`, `else`, the arm), so that a statement that runs only sometimes does not look
unconditional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dsl import ir
from dsl.ir_text import describe_trigger
from engine.insight.funnel import Funnel, playbook_funnel
from engine.read_model.playbook_counts import PlaybookCounts, playbook_counts
from engine.read_model.tasks import is_overdue
from engine.records import TaskRecord
from engine.store import Store
from server.smtp_sink import SinkMessage, read_index

__all__ = [
    "PRIORITY_ORDER",
    "PlaybookView",
    "SinkMessage",
    "TaskCard",
    "card",
    "outbox",
    "playbook_list",
    "playbook_view",
    "text_of",
    "trend",
    "urgency",
]

PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def text_of(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def trend(values: list[float | None]) -> tuple[str | None, float | None]:
    """The direction of the last change of a score ("up", "down") and by how much.

    Recordings that repeat the latest value are passed over: the arrow says how the score last
    moved, however long ago. None when the score is unscored now or never moved.
    """
    if not values or values[-1] is None:
        return None, None
    latest = values[-1]
    for earlier in reversed(values[:-1]):
        if earlier is None:
            return None, None
        if earlier != latest:
            delta = latest - earlier
            return ("up" if delta > 0 else "down"), delta
    return None, None


# --------------------------------------------------------------------------- work items


@dataclass
class TaskCard:
    task: TaskRecord
    account_name: str
    overdue: bool
    due_text: str  # "due in 2 days", "3 days overdue", "no due date"
    snoozed: bool = False  # snoozed past now
    owner_name: str | None = None  # the owner as people read them, when known

    @property
    def progress(self) -> str:
        """`1/3`: the checklist's steps done out of all; empty without a checklist."""
        steps = self.task.checklist
        return f"{sum(1 for step in steps if step.done_at is not None)}/{len(steps)}" if steps else ""


def _span(seconds: float) -> str:
    hours = abs(seconds) / 3600
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        count = int(hours)
        return f"{count} hour" + ("" if count == 1 else "s")
    return f"{int(hours // 24)} days"


def card(task: TaskRecord, names: dict[str, str], now: datetime) -> TaskCard:
    overdue = is_overdue(task, now)
    snoozed = task.snoozed_until is not None and task.snoozed_until > now and task.status == "open"
    if task.due is None:
        due_text = "no due date"
    elif overdue:
        due_text = f"{_span((now - task.due).total_seconds())} overdue"
    elif task.due < now:
        due_text = f"was due {_span((now - task.due).total_seconds())} ago"
    else:
        due_text = f"due in {_span((task.due - now).total_seconds())}"
    return TaskCard(task=task, account_name=names.get(task.account, task.account), overdue=overdue,
                    due_text=due_text, snoozed=snoozed)


def urgency(item: TaskCard) -> tuple[int, datetime, int, datetime, str]:
    """Overdue first, then by due time (none last), priority, age."""
    due = item.task.due or datetime.max.replace(tzinfo=item.task.created_at.tzinfo)
    return (0 if item.overdue else 1, due, PRIORITY_ORDER.get(item.task.priority, 2), item.task.created_at,
            item.task.id)


# --------------------------------------------------------------------------- playbooks


@dataclass
class PlaybookView:
    funnel: Funnel  # the steps, each statement nested in its `if`, `unless`, arm or `do … else`
    source: str  # the .play file
    trigger: str
    has_goal: bool


def playbook_list(store: Store, bundle: ir.Bundle) -> list[PlaybookCounts]:
    return playbook_counts(store, bundle)


def playbook_view(store: Store, bundle: ir.Bundle, playbook: str) -> PlaybookView | None:
    """The playbook's funnel (`engine.insight.funnel`): for each step, the journeys that reached it
    and what each statement did, nested as written; the results per arm of its splits and its goal
    conversion. None when no such playbook is deployed."""
    spec = bundle.playbooks.get(playbook)
    funnel = playbook_funnel(store, bundle, playbook)
    if spec is None or funnel is None:
        return None
    return PlaybookView(funnel=funnel, source=Path(spec.path).name if spec.path else "",
                        trigger=describe_trigger(spec.trigger),
                        has_goal=spec.goal is not None or bool(spec.goal_events))


# --------------------------------------------------------------------------- the outbox


def outbox(folder: Path) -> list[SinkMessage] | None:
    """The messages the dev stack's SMTP sink kept, newest first; None when there is no sink here."""
    if not folder.is_dir():
        return None
    return list(reversed(read_index(folder)))
