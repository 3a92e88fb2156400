"""What the work pages show: a CSM's open work items by due date (`my_work`) and, for a manager,
the team's overdue items by owner (`team_overdue`).

Each item says its type and reason, its checklist's progress and why it exists: the line of the
account's timeline where the journey opened it, beside the decisions that led there
(`why_link`). Synchronous, like the store; the routes call these on a worker thread.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from engine.store import Store
from server.dashboard.views import TaskCard, card, text_of, urgency

__all__ = ["OUTCOMES", "OwnerColumn", "WorkList", "my_work", "owners", "team_overdue", "why_link"]

OUTCOMES = ("resolved", "no_response", "churned", "escalated")  # offered when completing; any name is taken


@dataclass
class WorkList:
    owner: str | None  # None: everyone's
    cards: list[TaskCard]  # by due date, overdue first

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.cards if item.overdue)


@dataclass
class OwnerColumn:
    owner: str
    cards: list[TaskCard]


def why_link(item: TaskCard) -> str:
    """The account page's timeline, at the line where the journey opened the item."""
    return f"/accounts/{quote(item.task.account, safe='')}?kind=work&kind=decision#task-{quote(item.task.id, safe='')}"


def _names(store: Store, accounts: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for account in sorted(accounts):
        names[account] = text_of(store.current_fields(account).get("name")) or account
    return names


def my_work(store: Store, now: datetime, owner: str | None) -> WorkList:
    """The owner's open items (everyone's when None): overdue first, then by due date."""
    records = store.tasks(owner=owner, status="open")
    names = _names(store, {task.account for task in records})
    return WorkList(owner=owner, cards=sorted((card(task, names, now) for task in records), key=urgency))


def team_overdue(store: Store, now: datetime) -> list[OwnerColumn]:
    """Every owner's overdue items, the owners with most overdue first."""
    late = [task for task in store.tasks(status="open") if card(task, {}, now).overdue]
    names = _names(store, {task.account for task in late})
    by_owner: dict[str, list[TaskCard]] = defaultdict(list)
    for task in late:
        by_owner[task.owner].append(card(task, names, now))
    columns = [OwnerColumn(owner=owner, cards=sorted(cards, key=urgency)) for owner, cards in by_owner.items()]
    return sorted(columns, key=lambda column: (-len(column.cards), column.owner))


def owners(store: Store) -> list[str]:
    """Everyone who has open items, by address."""
    return sorted({task.owner for task in store.tasks(status="open")})
