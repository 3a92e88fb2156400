"""What the work pages show: a CSM's drafted emails to review and open work items by due date
(`my_work`) and, for a manager, the team's overdue items by owner (`team_overdue`), a page at a
time.

The items are read by `engine.read_model.work` (keyset on the owner, the status and the due
date). Each says its type and reason, its checklist's progress and why it exists: the line of the
account's timeline where the journey opened it, beside the decisions that led there
(`why_link`). Synchronous, like the store; the routes call these on a worker thread.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from engine.read_model.drafts import DraftOut, draft_list
from engine.read_model.work import WorkItem, work_page
from engine.records import TaskRecord
from engine.store import Store
from server.dashboard.views import TaskCard, card

__all__ = ["OUTCOMES", "PAGE_SIZE", "OwnerColumn", "WorkList", "my_work", "team_overdue", "why_link"]

OUTCOMES = ("resolved", "no_response", "churned", "escalated")  # offered when completing; any name is taken
PAGE_SIZE = 50
DRAFTS_SHOWN = 20
TEAM_PAGE_SIZE = 100


@dataclass
class WorkList:
    owner: str | None  # None: everyone's
    cards: list[TaskCard]  # by due date: the overdue ones come first
    next_link: str | None
    drafts: list[DraftOut]  # pending drafted emails to review, the soonest deadline first

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.cards if item.overdue)


@dataclass
class OwnerColumn:
    owner: str
    name: str  # as people read it
    cards: list[TaskCard]


def why_link(item: TaskCard) -> str:
    """The account page's timeline, at the line where the journey opened the item."""
    account, task = quote(item.task.account, safe=""), quote(item.task.id, safe="")
    return f"/accounts/{account}?kind=work_item&kind=decision#task-{task}"


def _card(item: WorkItem, now: datetime) -> TaskCard:
    record = TaskRecord.model_validate(item.model_dump(include=set(TaskRecord.model_fields) - {"bound"}))
    return card(record, {item.account: item.account_name}, now)


def my_work(store: Store, now: datetime, owner: str | None, cursor: str | None = None) -> WorkList:
    """A page of the owner's open items (everyone's when None), the soonest due first; `BadQuery`
    for a cursor the read did not hand out."""
    found = work_page(store, now, owner=owner, cursor=cursor, limit=PAGE_SIZE)
    drafts = draft_list(store, now, reviewer=owner, limit=DRAFTS_SHOWN) if cursor is None else []
    next_link = None
    if found.next_cursor is not None:
        next_link = "/tasks?" + urlencode({"owner": owner or "", "cursor": found.next_cursor})
    return WorkList(owner=owner, cards=[_card(item, now) for item in found.items], next_link=next_link, drafts=drafts)


def team_overdue(store: Store, now: datetime, manager: str | None = None) -> list[OwnerColumn]:
    """The overdue items (of the team of `manager` when given, else everyone's; the most overdue
    `TEAM_PAGE_SIZE`) by owner, the owners with most overdue first."""
    found = work_page(store, now, manager=manager, overdue=True, limit=TEAM_PAGE_SIZE)
    by_owner: dict[str, list[TaskCard]] = defaultdict(list)
    names: dict[str, str] = {}
    for item in found.items:
        by_owner[item.owner].append(_card(item, now))
        names[item.owner] = item.owner_name
    columns = [OwnerColumn(owner=owner, name=names[owner], cards=cards) for owner, cards in by_owner.items()]
    return sorted(columns, key=lambda column: (-len(column.cards), column.owner))


