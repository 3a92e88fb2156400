"""Work items a page at a time: a CSM's open items by due date, a team's overdue items.

- `owner`: the open items of that owner, the soonest due first (those without a due date last);
- `overdue`: only the open items past their due time and not snoozed past now;
- `manager`: the items of the owners whose manager (the `manager` of the owner field `csm` of
  their accounts) is that address;
- neither owner nor manager: everyone's.

Each item says its type and reason, the statement of the journey that opened it (`opened_by`: the
key of its `task` action, whose decision the account's timeline and `why` show), its checklist's
progress, and the account's and the owner's names as people read them. Read by keyset on
`(owner, status, due, id)` or `(status, due, id)`: a page costs its rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, or_, select

from engine.read_model.account_pages import csm_name
from engine.read_model.cursors import BadQuery, check_limit, decode_cursor, encode_cursor
from engine.read_model.tasks import TaskOut
from engine.store import Store
from engine.store.schema import account_cards, tasks
from engine.store.tasks import task_record
from engine.store.types import to_utc

__all__ = ["WorkItem", "WorkPage", "team_owners", "work_page"]

MAX_TEAM = 1000  # owners of one manager read at most


class WorkItem(TaskOut):
    account_name: str
    owner_name: str  # the owner as people read them: their name on an account, else the address's local part
    opened_by: str | None  # the key of the journey statement that opened it (`journey/<playbook>/<account>/...`)
    steps_done: int
    steps_total: int


class WorkPage(BaseModel):
    items: list[WorkItem]
    next_cursor: str | None


def team_owners(store: Store, manager: str) -> list[str]:
    """The addresses of the CSMs whose manager is `manager`, by the accounts' owner fields."""
    query = (select(account_cards.c.csm_email).where(account_cards.c.manager_email == manager.strip().lower(),
                                                     account_cards.c.csm_email.is_not(None))
             .distinct().order_by(account_cards.c.csm_email).limit(MAX_TEAM))
    with store.database.read() as conn:
        return list(conn.execute(query).scalars())


def _scope(query: Select[Any], now: datetime, owners: list[str] | None, overdue: bool) -> Select[Any]:
    query = query.where(tasks.c.status == "open")
    if owners is not None:
        query = query.where(tasks.c.owner == owners[0]) if len(owners) == 1 else query.where(tasks.c.owner.in_(owners))
    if overdue:
        query = query.where(tasks.c.due < now, or_(tasks.c.snoozed_until.is_(None), tasks.c.snoozed_until <= now))
    return query


def work_page(store: Store, now: datetime, *, owner: str | None = None, manager: str | None = None,
              overdue: bool = False, cursor: str | None = None, limit: int | None = None) -> WorkPage:
    """A page of open work items, the soonest due first (see the module's docstring)."""
    size = check_limit(limit)
    if owner is not None and manager is not None:
        raise BadQuery("owner and manager: give one of them (a CSM's items, or their manager's team)")
    for name, value in (("owner", owner), ("manager", manager)):
        if value is not None and not 3 <= len(value) <= 320:
            raise BadQuery(f"{name}: an address of 3 to 320 characters")
    tag = "work:overdue" if overdue else "work"
    phase, due, after = 0, None, None
    if cursor is not None:
        phase, raw_due, after = decode_cursor(cursor, tag, (int, (str, type(None)), str))
        if phase not in (0, 1) or (phase == 0) != (raw_due is not None) or (overdue and phase == 1):
            raise BadQuery("cursor: not a cursor this API handed out (pass next_cursor back as it came)")
        try:
            due = to_utc(datetime.fromisoformat(raw_due)) if raw_due is not None else None
        except ValueError:
            raise BadQuery("cursor: not a cursor this API handed out (pass next_cursor back as it came)") from None
    owners = [owner.strip()] if owner is not None else team_owners(store, manager) if manager else None
    if owners == []:
        return WorkPage(items=[], next_cursor=None)
    rows: list[Any] = []
    with store.database.read() as conn:
        if phase == 0:
            query = _scope(select(tasks), now, owners, overdue).where(tasks.c.due.is_not(None))
            if due is not None:
                query = query.where(tasks.c.due >= due, or_(tasks.c.due > due, tasks.c.id > after))
            rows = list(conn.execute(query.order_by(tasks.c.due, tasks.c.id).limit(size + 1)))
        if len(rows) <= size and not overdue:  # then the items without a due date, by id
            query = _scope(select(tasks), now, owners, overdue).where(tasks.c.due.is_(None))
            if phase == 1 and after is not None:
                query = query.where(tasks.c.id > after)
            rows += list(conn.execute(query.order_by(tasks.c.id).limit(size + 1 - len(rows))))
        shown = rows[:size]
        names = _names(conn, sorted({row.account for row in shown}), sorted({row.owner for row in shown}))
    next_cursor = None
    if len(rows) > size and shown:
        last = shown[-1]
        next_cursor = encode_cursor(tag, [0 if last.due is not None else 1,
                                          to_utc(last.due).isoformat() if last.due is not None else None, last.id])
    return WorkPage(items=[_item(row, now, names) for row in shown], next_cursor=next_cursor)


def _names(conn: Any, accounts: list[str], owners: list[str]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    if accounts:
        for row in conn.execute(select(account_cards.c.account, account_cards.c.name)
                                .where(account_cards.c.account.in_(accounts))):
            found[("account", row.account)] = row.name or row.account
    for owner in owners:
        name = csm_name(conn, owner.lower())
        if name:
            found[("owner", owner)] = name
    return found


def _item(row: Any, now: datetime, names: dict[tuple[str, str], str]) -> WorkItem:
    record = task_record(row)
    out = TaskOut.of(record, now)
    key = str(row.key or "")
    return WorkItem(**out.model_dump(), account_name=names.get(("account", record.account), record.account),
                    owner_name=names.get(("owner", record.owner), record.owner.split("@", 1)[0]),
                    opened_by=key if key.startswith("journey/") else None,
                    steps_done=sum(1 for step in record.checklist if step.done_at is not None),
                    steps_total=len(record.checklist))
